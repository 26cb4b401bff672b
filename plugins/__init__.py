"""Built-in vendor source plugins, one package per vendor.

They are registered in pyproject.toml under the `parkflow.sources` entry-point
group, exactly as a third-party plugin package registers its own.
"""

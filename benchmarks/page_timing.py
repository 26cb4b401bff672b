"""When a dashboard page is drawn, measured inside Chromium (Playwright) on Bokeh's own views.

A page is *drawn* at the first animation frame in which

- every chart it must show (`.pf-chart-<name>`) has a Bokeh view that has finished painting
  and at least one of its glyphs' data sources has rows;
- every table it must show (`.pf-table-<name>`) has a Tabulator row in the DOM;
- every row of headline numbers (`.pf-kpis`) has its values (`.pf-value`) written;
- every other component it must show (by CSS class) has finished drawing;
- and, after a filter change, every one of those charts and tables shows other data than
  before the click (a fingerprint of each chart's data sources, of each table's rows shown).
  The pages update charts and tables in place, so "new views" would not say it.

Times are read with `performance.now()` in the page, so Playwright's own round trips are not
in them: a first render is measured from the start of the navigation (the page's time origin),
a filter change from the click on the facility in the drop-down (a capture listener notes it).
The check runs once per animation frame (`polling="raf"`): the resolution is one frame (~17 ms).
"""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

#: `({charts, tables, kpis, others, before}) => false | {at, prints, kpis}` (module docstring).
DRAWN_JS = """
({charts, tables, kpis, others, before}) => {
  if (!window.Bokeh || !Bokeh.index) return false;
  const byClass = new Map();
  for (const view of Bokeh.index.all_views()) {
    if (!view.el?.isConnected) continue;  // not shown (or not an element: a glyph's view)
    for (const name of view.model.css_classes ?? []) {
      if (name.startsWith('pf-')) byClass.set(name, [...(byClass.get(name) ?? []), view]);
    }
  }
  const root = (view) => view.shadow_el ?? view.el.shadowRoot ?? view.el;
  const all = function* (view) {
    yield view;
    for (const child of view.children()) yield* all(child);
  };
  const glyphs = (view) => [...all(view)].filter((v) => v.model.data_source);
  const sources = (view) => glyphs(view).map((v) => v.model.data_source);
  const column = (values) => values.length + ':' + (typeof values[0] === 'number'
    ? Array.prototype.reduce.call(values, (sum, x) => sum + (Number.isFinite(x) ? x : 0), 0)
    : JSON.stringify([values[0], values[values.length - 1]]));
  const glyphPrint = (v) => !v.model.visible ? 'hidden' : v.model.data_source.columns()
    .map((name) => column(v.model.data_source.get_column(name) ?? [])).join(',');
  const chartPrint = (views) => views.flatMap(glyphs).map(glyphPrint).join('|');
  const prints = {};
  for (const name of charts) {
    const views = byClass.get('pf-chart-' + name) ?? [];
    if (!views.length || !views.every((v) => v.has_finished())) return false;
    if (!views.flatMap(sources).some((s) => s.get_length() > 0)) return false;
    prints['chart-' + name] = chartPrint(views);
  }
  for (const name of tables) {
    const views = byClass.get('pf-table-' + name) ?? [];
    const rows = views.flatMap((v) => [...root(v).querySelectorAll('.tabulator-row')]);
    if (!views.length || !rows.length) return false;
    prints['table-' + name] = rows.map((row) => row.textContent).join('|');
  }
  const values = (byClass.get('pf-kpis') ?? [])
    .flatMap((v) => [...root(v).querySelectorAll('.pf-value')])
    .map((element) => element.textContent.trim());
  if (kpis && (!values.length || values.some((text) => !text))) return false;
  for (const name of others) {
    const views = byClass.get(name) ?? [];
    if (!views.length || !views.every((v) => v.has_finished())) return false;
  }
  if (before && Object.entries(prints).some(([key, print]) => before[key] === print)) {
    return false;  // some chart or table still shows what it showed before the click
  }
  return {at: performance.now(), prints, kpis: values};
}
"""

#: Note the time of the next click anywhere in the page (the capture phase sees it first).
NOTE_NEXT_CLICK_JS = """
() => {
  window.__pfClickAt = null;
  window.addEventListener('click', () => { window.__pfClickAt = performance.now(); },
                          {capture: true, once: true});
}
"""


@dataclass(frozen=True)
class Expected:
    """What a page must show to count as drawn (names after `pf-chart-` / `pf-table-`)."""

    charts: tuple[str, ...]
    tables: tuple[str, ...]
    kpis: bool = True  # a row of headline numbers
    others: tuple[str, ...] = ()  # CSS classes of other components


@dataclass(frozen=True)
class Drawn:
    """A page drawn: when (ms), what its charts and tables showed, and its headline numbers."""

    at_ms: float
    prints: dict[str, str]
    kpis: tuple[str, ...]


def wait_drawn(page: Page, expected: Expected, before: Drawn | None, timeout_ms: float) -> Drawn:
    """Wait until the page is drawn (with other data in every chart and table than `before`)."""
    arg = {
        "charts": list(expected.charts),
        "tables": list(expected.tables),
        "kpis": expected.kpis,
        "others": list(expected.others),
        "before": before.prints if before else None,
    }
    try:
        handle = page.wait_for_function(DRAWN_JS, arg=arg, polling="raf", timeout=timeout_ms)
    except PlaywrightTimeoutError:
        now = page.evaluate(DRAWN_JS, arg | {"before": None})
        if not now:
            raise TimeoutError(f"{page.url}: not drawn ({expected})") from None
        same = [key for key, print_ in now["prints"].items() if before.prints.get(key) == print_]
        raise TimeoutError(f"{page.url}: still the same data in {same}") from None
    found = handle.json_value()
    return Drawn(found["at"], found["prints"], tuple(found["kpis"]))


@dataclass(frozen=True)
class Timing:
    """One measurement: the time it took, and the drawing at its end."""

    elapsed_ms: float
    drawn: Drawn


def first_render(
    context: BrowserContext, url: str, expected: Expected, timeout_ms: float = 60_000
) -> tuple[Page, Timing]:
    """Open `url` in a new tab: the tab, and when it was drawn (ms after navigation start)."""
    page = context.new_page()
    page.goto(url, wait_until="commit")
    drawn = wait_drawn(page, expected, None, timeout_ms)
    return page, Timing(drawn.at_ms, drawn)


def choose_facility(
    page: Page, label: str, expected: Expected, before: Drawn, timeout_ms: float = 60_000
) -> Timing:
    """Pick `label` in the facility drop-down: the time from the click until it is redrawn."""
    page.get_by_role("combobox").first.click()
    option = page.get_by_role("listbox").get_by_text(label, exact=True)
    option.wait_for()
    page.evaluate(NOTE_NEXT_CLICK_JS)
    option.click()
    drawn = wait_drawn(page, expected, before, timeout_ms)
    clicked = page.evaluate("() => window.__pfClickAt")
    if clicked is None:
        raise RuntimeError("the click on the facility was not seen by the page")
    return Timing(drawn.at_ms - clicked, drawn)

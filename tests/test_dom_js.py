"""web/dom.js linkStyleSheet, the one loader of every tab's own style sheet: however many tabs
ask for a sheet, and however close together, the document holds one <link> for it, and every
caller goes on only once the browser has the sheet's rules (or has given up on a missing file,
without an error: a tab works unstyled too). The reference is the browser's own record of the
document: its <link> elements and document.styleSheets."""
import pytest

# Two tabs asking at once, then a third later; for each caller, whether the sheet's rules were
# in document.styleSheets when its promise settled, and how it settled.
ASK = """async (path) => {
    const {linkStyleSheet} = await import('/web/dom.js');
    (await import('/web/shared.js')).setFiles('/');
    const url = new URL('/' + path, location.href).href;
    const rules = () => [...document.styleSheets].filter((s) => s.href === url)
        .map((s) => s.cssRules.length);
    const settle = (p) => p.then(() => ({ok: true, rules: rules()}), (e) => ({ok: false, error: String(e)}));
    const first = await Promise.all([settle(linkStyleSheet(path)), settle(linkStyleSheet(path))]);
    const later = await settle(linkStyleSheet(path));
    const links = [...document.querySelectorAll('link')].filter((l) => l.href === url);
    return {callers: [...first, later], links: links.length,
            inHead: links.every((l) => l.parentNode === document.head)};
}"""


@pytest.mark.parametrize("path", ["web/gallery_tab.css", "web/inside_tab.css"])
def test_a_sheet_is_linked_once_and_every_caller_waits_for_its_rules(js_page, path):
    found = js_page.evaluate(ASK, path)
    assert found["links"] == 1 and found["inHead"]
    for caller in found["callers"]:
        assert caller["ok"] and len(caller["rules"]) == 1 and caller["rules"][0] > 0, caller


def test_a_missing_sheet_settles_without_an_error_and_is_linked_once(js_page):
    found = js_page.evaluate(ASK, "web/no_such_sheet.css")
    assert found["links"] == 1
    assert [c["ok"] for c in found["callers"]] == [True, True, True]
    assert all(sum(c["rules"]) == 0 for c in found["callers"])   # nothing to apply, nothing applied


def test_two_sheets_get_a_link_each(js_page):
    js_page.evaluate(ASK, "web/gallery_tab.css")
    js_page.evaluate(ASK, "web/invariance_tab.css")
    hrefs = js_page.evaluate("() => [...document.head.querySelectorAll('link[rel=stylesheet]')]"
                             ".map((l) => l.href)")
    assert sum(h.endswith("/web/gallery_tab.css") for h in hrefs) == 1
    assert sum(h.endswith("/web/invariance_tab.css") for h in hrefs) == 1

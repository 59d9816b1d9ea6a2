#!/usr/bin/env python3
"""test/report/check.py: the checks of test/report/run on the page clm.report wrote.

    python3 check.py wellformed PAGE        strict tag nesting (html.parser) of the page
    python3 check.py figures DOM EXPECTED   the figures of the rendered DOM (chromium
                                            --dump-dom) against the views (EXPECTED: JSON)
    python3 check.py netlog NETLOG [control]  no request of the page in a Chromium net log
                                            (control: the page loads something; it must be seen)

Each check prints "ok - what" or "not ok - what: why", one line each.
"""
import html.parser
import json
import re
import sys

VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
SVG_EMPTY = {'rect', 'line', 'circle', 'path', 'polyline'}


def say(ok, what, why=''):
    print(('ok - %s' % what) if ok else ('not ok - %s: %s' % (what, why)))
    return ok


class Strict(html.parser.HTMLParser):
    """Every element closed in order; no stray end tag; no unknown entity."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack, self.errors, self.elements = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.elements += 1
        names = [a for a, _ in attrs]
        if len(names) != len(set(names)):
            self.errors.append('duplicate attribute in <%s> at %s' % (tag, self.getpos()))
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.elements += 1
        if tag not in VOID and tag not in SVG_EMPTY:
            self.errors.append('self-closed <%s/> at %s' % (tag, self.getpos()))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append('</%s> at %s closes %s' % (tag, self.getpos(), self.stack[-1] if self.stack else 'nothing'))
        else:
            self.stack.pop()

    def handle_entityref(self, name):
        if name not in ('amp', 'lt', 'gt', 'quot'):
            self.errors.append('entity &%s; at %s' % (name, self.getpos()))


def wellformed(path):
    text = open(path, encoding='utf-8').read()
    p = Strict()
    p.feed(text)
    p.close()
    if p.stack:
        p.errors.append('unclosed: %s' % p.stack)
    say(text.startswith('<!DOCTYPE html>'), 'the page starts with <!DOCTYPE html>')
    say(not p.errors, 'every element of the page is closed in order (%d elements)' % p.elements, '; '.join(p.errors[:5]))


class Dom(html.parser.HTMLParser):
    """The elements of the rendered DOM with their attributes and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open, self.done = [], []

    def handle_starttag(self, tag, attrs):
        e = {'tag': tag, 'attrs': dict(attrs), 'text': '', 'children': []}
        if tag in VOID:
            self.done.append(e)
            if self.open:
                self.open[-1]['children'].append(e)
        else:
            self.open.append(e)

    def handle_endtag(self, tag):
        while self.open:
            e = self.open.pop()
            self.done.append(e)
            if self.open:
                self.open[-1]['text'] += e['text']
                self.open[-1]['children'].append(e)
            if e['tag'] == tag:
                break

    def handle_data(self, data):
        if self.open:
            self.open[-1]['text'] += data

    def find(self, tag=None, **attrs):
        return [e for e in self.done if (tag is None or e['tag'] == tag)
                and all(e['attrs'].get(k.replace('_', '-')) == v for k, v in attrs.items())]


def number(text):
    return float(text.replace(',', '').strip())


def figures(dom_path, expected_path):
    d = Dom()
    d.feed(open(dom_path, encoding='utf-8').read())
    d.close()
    exp = json.load(open(expected_path))

    # the as-of date and the headline figures: the value and the number shown
    t = d.find('time', id='as-of')
    say(t and t[0]['text'] == exp['as_of'], 'the page is as of %s' % exp['as_of'], t and t[0]['text'])
    for k, v in exp['kpis'].items():
        e = d.find('dd', id='kpi-' + k)
        if not e:
            say(False, 'headline %s' % k, 'not on the page')
            continue
        shown = number(e[0]['text'])
        say(abs(float(e[0]['attrs']['data-value']) - v) <= 1e-9 * max(abs(v), 1) and abs(shown - v) <= 0.5,
            'headline %s shows %s (view: %s)' % (k, e[0]['text'], v), 'differs')

    # heatmap cells: the percent in the cell is the view's rate
    cells = {(e['attrs']['data-cohort'], e['attrs']['data-offset']): e for e in d.find('g', **{'class': 'hm'})}
    say(len(cells) == exp['heatmap_cells'], 'the heatmap has one cell per row of cohort_retention_monthly (%d)' % exp['heatmap_cells'],
        '%d cells' % len(cells))
    for c in exp['cells']:
        e = cells.get((c['cohort'], str(c['offset'])))
        # the cell: its <title> (the tooltip), the <rect>, the <text> with the percent
        texts = [x['text'] for x in e['children'] if x['tag'] == 'text'] if e else []
        shown = int(texts[0]) if texts else None
        say(shown == int(c['percent']),
            'heatmap cell %s month %s shows %s%% (view: rate %.4f)' % (c['cohort'], c['offset'], shown, c['rate']),
            'expected %s' % c['percent'])

    # the Sankey: the total, and every node's count at each end
    tot = d.find('span', id='flow-total')
    say(tot and number(tot[0]['text']) == exp['flow_total'], 'the stage flow counts %d customers' % exp['flow_total'],
        tot and tot[0]['text'])
    for side in ('from', 'to'):
        nodes = {e['attrs']['data-node'].split(':', 1)[1]: number(e['text'].split()[-1])
                 for e in d.find('text') if e['attrs'].get('data-node', '').startswith(side + ':')}
        want = {k: float(v) for k, v in exp['flow_' + side].items()}
        say(nodes == want, 'the stage flow nodes on the %s side equal stage_transitions' % side,
            'page %s, view %s' % (nodes, want))
        say(sum(nodes.values()) == exp['flow_total'], 'the %s nodes add up to the total' % side)

    # the segment summary: customers of every segment
    segs = {e['attrs']['data-segment']: e for e in d.find('tr') if 'data-segment' in e['attrs']}
    say(set(segs) == set(exp['segments']), 'the segment summary lists every segment (%d)' % len(exp['segments']),
        sorted(set(segs) ^ set(exp['segments'])))
    for s, n in exp['segments'].items():
        row = segs.get(s)
        cells = [c for c in row['children'] if c['attrs'].get('class') == 'customers'] if row else []
        shown = number(cells[0]['text']) if cells else None
        say(shown == n, 'segment %s: %s customers' % (s, n), 'page shows %s' % shown)

    # the RFM grid holds every scored customer
    rfm = sum(int(e['attrs']['data-customers']) for e in d.find('g', **{'class': 'rfm'}))
    say(rfm == exp['rfm_customers'], 'the RFM grid holds %d customers' % exp['rfm_customers'], rfm)


def netlog(path, control=False):
    """The requests the page made (URL requests with the page as initiator:
    Chromium's own background requests have none); control: the page is one
    made to load something, and the check must see it."""
    log = json.load(open(path, encoding='utf-8'))
    types = {v: k for k, v in log['constants']['logEventTypes'].items()}
    page, browser = set(), set()
    for e in log['events']:
        p = e.get('params') or {}
        if types.get(e['type']) == 'URL_REQUEST_START_JOB' and not p.get('url', 'file:').startswith('file:'):
            (browser if p.get('initiator') == 'not an origin' else page).add(p['url'])
    if control:
        say(bool(page), 'the net log check sees the requests of a page that loads an image (control)', 'it saw none')
    else:
        say(not page, 'the page requested nothing (%d requests of Chromium itself, not the page, refused)' % len(browser),
            ', '.join(sorted(page)[:5]))


if __name__ == '__main__':
    if sys.argv[1] == 'wellformed':
        wellformed(sys.argv[2])
    elif sys.argv[1] == 'figures':
        figures(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == 'netlog':
        netlog(sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == 'control')
    else:
        sys.exit(__doc__)

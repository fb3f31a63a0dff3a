#!/usr/bin/env python3
"""html_check.py - checks an HTML report from fedtrace and prints its
structure (not its pixels): per federation direction the verdict code, the
lanes of the ladder by role, the number of steps and of failing steps.

Fails (exit 1) when the page is not well nested, carries a script, an
event handler attribute, an external reference, or text looks like an
unescaped tag.  Usage: html_check.py REPORT.html
"""
import html.parser
import re
import sys

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source", "track", "embed", "param"}
SVG_SELF = {"line", "polygon", "circle", "rect", "path"}


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.dirs, self.cur = [], [], [], None
        self.in_code = False

    def handle_starttag(self, tag, attrs):
        self.open(tag, attrs, selfclosing=False)

    def handle_startendtag(self, tag, attrs):
        self.open(tag, attrs, selfclosing=True)

    def open(self, tag, attrs, selfclosing):
        a = dict(attrs)
        if tag in ("script", "iframe", "object", "embed", "link", "img", "image", "use", "foreignobject"):
            self.errors.append("forbidden element <%s>" % tag)
        for k, v in attrs:
            if k.startswith("on"):
                self.errors.append("event handler attribute %s" % k)
            # A link to a local file (--evidence-dir's captures) is a
            # navigation the reader chooses, never a fetch: no scheme, no host.
            local_link = tag == "a" and k == "href" and v and ":" not in v and not v.startswith("//")
            if k in ("href", "src", "xlink:href") and v and not v.startswith("#") and not local_link:
                self.errors.append("external reference %s=%r" % (k, v))
        cls = a.get("class") or ""
        if tag == "div" and cls == "dir":
            self.cur = {"code": "", "lanes": [], "steps": 0, "failing": 0}
            self.dirs.append(self.cur)
        if self.cur is not None:
            if tag == "g" and cls == "lane":
                self.cur["lanes"].append(a.get("data-role"))
            if tag == "g" and cls.startswith("step"):
                self.cur["steps"] += 1
                self.cur["failing"] += "failing" in cls
            if tag == "code" and not self.cur["code"]:
                self.in_code = True
        if tag not in VOID and not selfclosing:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
            return
        self.stack.pop()
        if tag == "code":
            self.in_code = False

    def handle_data(self, data):
        if self.in_code and self.cur is not None and not self.cur["code"]:
            self.cur["code"] = data.strip()


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    c = Checker()
    c.feed(text)
    c.close()
    if c.stack:
        c.errors.append("unclosed: %s" % " ".join(c.stack))
    if re.search(r"<\s*script", text, re.I):
        c.errors.append("'<script' in the page")
    if not text.startswith("<!DOCTYPE html>") or "Content-Security-Policy" not in text:
        c.errors.append("no doctype or no Content-Security-Policy")
    for e in c.errors:
        print("ERROR: " + e)
    for d in c.dirs:
        print("%s lanes=%s steps=%d failing=%d" % (d["code"] or "-", ",".join(d["lanes"]), d["steps"], d["failing"]))
    return 1 if c.errors else 0


sys.exit(main())

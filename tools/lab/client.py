#!/usr/bin/python3
"""Lab XMPP client for tools/lab/run (Debian's python3-slixmpp).

    client.py JID PASSWORD HOST [--subscribe JID [--expect WHAT]] [--approve]
              [--hold SECONDS] [--ready FILE] [--linger SECONDS]
              [--timeout SECONDS] [--done FILE] [--chat N [--go FILE]]
              [--echo]

Logs in over cleartext c2s (no STARTTLS; the lab servers offer none) at
HOST:5222, sends initial presence, then:
  --subscribe JID  sends <presence type='subscribe'/> to JID and waits for
                   <presence type='subscribed'/> from it;
  --expect WHAT    what the subscribe should lead to: 'subscribed' (the
                   default), 'error' (a <presence type='error'/> from JID,
                   e.g. a bounce by our own server after an s2s failure), or
                   'nothing' (neither within --hold seconds);
  --approve        answers the first incoming subscribe with 'subscribed'
                   (and nothing else: no subscribe back);
  --hold SECONDS   without --subscribe/--approve: just stay online that long
                   (a contact who ignores subscription requests); with
                   --expect nothing: how long to wait for no answer.
  --chat N         after 'subscribed': write --done FILE, wait until the
                   file --go exists (the lab starts a capture meanwhile),
                   then send N chat messages to JID, one a second, then a
                   directed presence, and wait for N replies;
  --echo           answers every chat message with one (and, with
                   --approve, stays online --hold seconds after approving).
--ready FILE is written once the session has started.  The client stays
--linger seconds after its job is done, then logs out.  Exit status 0 when
the job was done, 1 on timeout or login failure.
"""

import argparse
import asyncio
import logging
import os
import sys
import time

import slixmpp


def log(msg):
    print("%.3f %s" % (time.time(), msg), flush=True)


class LabClient(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.done = False
        self.failed = False
        self.auto_authorize = None       # decide ourselves
        self.auto_subscribe = False
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("presence_subscribe", self.on_subscribe)
        self.add_event_handler("presence_subscribed", self.on_subscribed)
        self.add_event_handler("presence_error", self.on_presence_error)
        self.add_event_handler("message", self.on_message)
        self.replies = 0

    async def get_dns_records(self, domain, port=None):
        # The lab connects to a literal address and must not touch DNS:
        # slixmpp 1.8.3 otherwise looks up AAAA and A for the empty name
        # ('.') before connecting, which would show up in the captures.
        return [(self.args.host, self.args.host, port or 5222)]

    async def on_start(self, _event):
        self.send_presence()
        await self.get_roster()
        log("session started as %s" % self.boundjid.full)
        if self.args.ready:
            with open(self.args.ready, "w") as fh:
                fh.write(self.boundjid.full + "\n")
        if self.args.subscribe:
            log("sending subscribe to %s" % self.args.subscribe)
            self.send_presence(pto=self.args.subscribe, ptype="subscribe")
        if self.args.hold is not None and (
                self.args.expect == "nothing" or not self.args.subscribe):
            self.loop.call_later(self.args.hold, self.held)

    def held(self):
        if self.failed:
            return
        log("held %.1f s" % self.args.hold)
        self.done = True
        self.disconnect()

    def on_failed_auth(self, _event):
        log("authentication failed")
        self.disconnect()

    def on_subscribe(self, pres):
        log("subscribe from %s" % pres["from"])
        if self.args.approve and not self.done:
            self.send_presence(pto=pres["from"].bare, ptype="subscribed")
            log("sent subscribed to %s" % pres["from"].bare)
            if self.args.echo:
                self.done = True   # stay --hold seconds for the chat
            else:
                self.finish()

    def on_message(self, msg):
        if msg["type"] not in ("chat", "normal") or not msg["body"]:
            return
        log("message from %s: %s" % (msg["from"], msg["body"]))
        if self.args.echo:
            self.send_message(mto=msg["from"], mbody="re: " + msg["body"],
                              mtype="chat")
            log("answered %s" % msg["from"])
        elif self.args.chat and msg["from"].bare == self.args.subscribe:
            self.replies += 1
            if self.replies == self.args.chat:
                self.finish()

    async def chat(self):
        with open(self.args.done, "w") as fh:
            fh.write("subscribed\n")
        while not os.path.exists(self.args.go):
            await asyncio.sleep(0.1)
        for i in range(self.args.chat):
            self.send_message(mto=self.args.subscribe, mtype="chat",
                              mbody="lab message %d" % (i + 1))
            log("sent message %d" % (i + 1))
            await asyncio.sleep(1)
        self.send_presence(pto=self.args.subscribe, pstatus="still here")
        log("sent directed presence")

    def on_subscribed(self, pres):
        log("subscribed from %s" % pres["from"])
        if self.args.subscribe and pres["from"].bare == self.args.subscribe:
            self.outcome("subscribed")

    def on_presence_error(self, pres):
        err = pres["error"]
        log("presence error from %s: %s/%s by=%s text=%r" % (
            pres["from"], err["type"], err["condition"], err["by"],
            err["text"]))
        if self.args.subscribe and pres["from"].bare == self.args.subscribe:
            self.outcome("error")

    def outcome(self, what):
        if self.done or self.failed:
            return
        if what == self.args.expect:
            if self.args.chat and what == "subscribed":
                self.loop.create_task(self.chat())
            else:
                self.finish()
        else:
            log("unexpected %s (expected %s)" % (what, self.args.expect))
            self.failed = True
            self.loop.call_later(self.args.linger, self.disconnect)

    def finish(self):
        self.done = True
        self.loop.call_later(self.args.linger, self.disconnect)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("jid")
    p.add_argument("password")
    p.add_argument("host")
    p.add_argument("--subscribe")
    p.add_argument("--expect", default="subscribed",
                   choices=("subscribed", "error", "nothing"))
    p.add_argument("--approve", action="store_true")
    p.add_argument("--hold", type=float)
    p.add_argument("--ready")
    p.add_argument("--linger", type=float, default=2.0)
    p.add_argument("--timeout", type=float, default=40.0)
    p.add_argument("--done")
    p.add_argument("--go")
    p.add_argument("--chat", type=int, default=0)
    p.add_argument("--echo", action="store_true")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)

    xmpp = LabClient(args)
    xmpp.loop.call_later(args.timeout, lambda: (
        log("timeout") if not xmpp.done else None, xmpp.disconnect()))
    xmpp.connect(address=(args.host, 5222), force_starttls=False,
                 disable_starttls=True)
    xmpp.process(forever=False)
    log("disconnected, done=%s" % xmpp.done)
    return 0 if xmpp.done else 1


if __name__ == "__main__":
    sys.exit(main())

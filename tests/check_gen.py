#!/usr/bin/env python3
"""check_gen.py - compare what the pipeline delivered with what gen-pcap wrote.

Usage: check_gen.py GENDIR DUMPDIR
GENDIR holds the crafted captures, MANIFEST and expected/ from tools/gen-pcap;
DUMPDIR/<base>/ holds streamdump's files and DUMPDIR/<base>.out its stdout.
Prints one line per failed check and ends with "gen-pcaps: N passed, N failed".
"""
import os
import sys

# libpcap reports some LINKTYPE_ values as their DLT_ equivalents.
LINK_ALIASES = {101: 12}

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


def parse_manifest(path):
    entries = []
    with open(path) as fp:
        for line in fp:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            facts = line.split(" | ")[0].split()
            keys = {}
            for kv in facts[1:]:
                k, _, v = kv.partition("=")
                keys[k] = v
            entries.append((facts[0], keys))
    return entries


def parse_out(path):
    lines = {"conn": [], "stream": [], "udp": [], "summary": {}}
    with open(path) as fp:
        for line in fp:
            words = line.split()
            if not words:
                continue
            kind = words[0] if "=" not in words[0] else "summary"
            kv = dict(w.split("=", 1) for w in words if "=" in w)
            if kind == "summary":
                lines["summary"] = kv
            else:
                lines[kind].append(kv)
    return lines


def read(path):
    with open(path, "rb") as fp:
        return fp.read()


def main():
    gendir, dumpdir = sys.argv[1], sys.argv[2]
    for name, keys in parse_manifest(os.path.join(gendir, "MANIFEST")):
        base = name.rsplit(".", 1)[0]
        out = parse_out(os.path.join(dumpdir, base + ".out"))
        summ = out["summary"]
        where = name
        check(summ.get("frames") == keys["packets"],
              "%s: frames %s, expected %s" % (where, summ.get("frames"), keys["packets"]))
        link = int(keys["link"])
        check(int(summ.get("linktype", -1)) in (link, LINK_ALIASES.get(link, link)),
              "%s: linktype %s, expected %s" % (where, summ.get("linktype"), link))
        if keys.get("damaged") == "1":
            check(summ.get("errors") == "1", "%s: damage not reported" % where)
        else:
            check(summ.get("errors") == "0", "%s: read errors" % where)
        # Wireshark's numbering: every packet, plus custom blocks.
        records = keys.get("records", keys["packets"])
        check(summ.get("records") == records,
              "%s: records %s, expected %s" % (where, summ.get("records"), records))
        for key in ("linktypes", "secrets", "bad_timestamps"):
            if key in keys:
                check(summ.get(key) == keys[key],
                      "%s: %s %s, expected %s" % (where, key, summ.get(key), keys[key]))
        if "conns" in keys:
            conns = out["conn"]
            check(len(conns) == int(keys["conns"]),
                  "%s: %d connections, expected %s" % (where, len(conns), keys["conns"]))
            flows = keys.get("flows", keys.get("flow", "")).split(",")
            check(sorted(c["flow"] for c in conns) == sorted(flows),
                  "%s: flows %s, expected %s" % (where, [c["flow"] for c in conns], flows))
            for c in conns:
                cw = "%s conn %s" % (where, c["id"])
                check(c["c2s_bytes"] == keys["c2s_bytes"],
                      "%s: c2s payload %s, expected %s" % (cw, c["c2s_bytes"], keys["c2s_bytes"]))
                check(c["s2c_bytes"] == keys["s2c_bytes"],
                      "%s: s2c payload %s, expected %s" % (cw, c["s2c_bytes"], keys["s2c_bytes"]))
                if "syn_times" in keys:
                    check(c["syn_count"] == str(len(keys["syn_times"].split(","))),
                          "%s: %s SYNs, expected %s" % (cw, c["syn_count"], keys["syn_times"]))
                streams = [s for s in out["stream"] if s["id"] == c["id"]]
                if "c2s_stream" not in keys:
                    continue
                check(len(streams) == 1, "%s: dissector saw %d streams" % (cw, len(streams)))
                if not streams:
                    continue
                s = streams[0]
                if "c2s_caplen" in keys:
                    # Snapshot-cut data: the captured prefix of each segment
                    # arrives, the rest is reported as gaps.
                    got = len(read(os.path.join(dumpdir, base, c["id"] + ".c2s")))
                    check(got == int(keys["c2s_caplen"]),
                          "%s: c2s captured %d, expected %s" % (cw, got, keys["c2s_caplen"]))
                    check(s["c2s_gaps"] != "-", "%s: snaplen cut without gaps" % cw)
                    continue
                for d in ("c2s", "s2c"):
                    got = read(os.path.join(dumpdir, base, c["id"] + "." + d))
                    exp = read(os.path.join(gendir, "expected", base + "." + d))
                    check(got == exp, "%s: %s stream differs (%d bytes, expected %d)" %
                          (cw, d, len(got), len(exp)))
                    check(s[d + "_eof"] == "1", "%s: %s eof %s" % (cw, d, s[d + "_eof"]))
                check(s["c2s_gaps"] == keys.get("c2s_gap", "-"),
                      "%s: c2s gaps %s, expected %s" % (cw, s["c2s_gaps"], keys.get("c2s_gap", "-")))
                check(s["s2c_gaps"] == keys.get("s2c_gap", "-"),
                      "%s: s2c gaps %s, expected %s" % (cw, s["s2c_gaps"], keys.get("s2c_gap", "-")))
        if "udp" in keys:
            flow, _, payload = keys["udp"].partition(",payload=")
            length = int(payload.split(":")[0])
            match = [u for u in out["udp"] if u["flow"] == flow and u["len"] == str(length)]
            check(len(match) == 1, "%s: reassembled datagram %s not delivered" % (where, flow))
            if match:
                got = read(os.path.join(dumpdir, base, "udp%s.bin" % match[0]["n"]))
                exp = read(os.path.join(gendir, "expected", base + ".udp"))
                check(got == exp, "%s: datagram bytes differ" % where)
            check(summ.get("reassembled") == "1", "%s: reassembled=%s" % (where, summ.get("reassembled")))
    print("gen-pcaps: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The table of `make bench`, from the raw runs bench/run.sh wrote (raw.txt).

Each raw line is `KEY SIDE key=value...` (one run of bench-client) or
`fact NAME VALUE`. Per key and side the median over the rounds is reported; the
ratio is ours / ceiling. "srv CPU" is the CPU the stack's processes (nginx, the
workers, MariaDB) spent per 1,000 items, a figure that drifts less than throughput
on a shared machine; "client" is the load generator's own CPU (100 = one core)."""
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)  # (key, side) -> [dict]
facts = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if not parts:
        continue
    if parts[0] == "fact":
        facts[parts[1]] = " ".join(parts[2:])
        continue
    kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
    runs[(parts[0], parts[1])].append(kv)


def num(d, k):
    try:
        return float(d.get(k, "nan"))
    except ValueError:
        return float("nan")


def med(key, side, field):
    vals = [num(r, field) for r in runs.get((key, side), [])]
    vals = [v for v in vals if v == v]
    return statistics.median(vals) if vals else None


def errors(key, side):
    return int(sum(num(r, "errors") for r in runs.get((key, side), []) if num(r, "errors") == num(r, "errors")))


def srv_cpu_ms_per_1k(key, side):
    per = []
    for r in runs.get((key, side), []):
        items = num(r, "items")
        if not items or items != items:
            continue
        pct = sum(num(r, f"cpu_{g}") for g in ("nginx", "workers", "db"))
        per.append(pct / 100 * num(r, "seconds") / items * 1e6)
    return statistics.median(per) if per else None


def round_ratios(key, ceil_key, ceil_side="ceiling", side="ours"):
    """ours / ceiling of each round (the runs of a round ran back to back)."""
    o = [num(r, "rate") for r in runs.get((key, side), [])]
    c = [num(r, "rate") for r in runs.get((ceil_key, ceil_side), [])]
    return [a / b for a, b in zip(o, c) if b and a == a and b == b]


def is_paired(key, side):
    """True when the runs came from bench/run.sh's paired() (numbered groups)."""
    rs = runs.get((key, side), [])
    return bool(rs) and all("pair" in r for r in rs)


def fmt(v, spec="{:,.0f}"):
    return "-" if v is None else spec.format(v)


out = []
w = out.append
W = 121


def header(title, paired=False):
    w("")
    w(title)
    if paired:
        # bench/run.sh's paired(): the ratio is the median of the groups' ratios.
        w(f"{'':47} {'ours':>9} {'ceiling':>9} {'ratio':>6} {'target':>7} {'pairs: mid half':>15} {'range':>9}"
          f"  {'srv CPU ms/1k':>13} {'client':>6} {'errs':>4}")
        w(f"{'':47} {'median':>9} {'median':>9} {'median':>6} {'':>7} {'':>15} {'':>9}"
          f"  {'ours / ceil':>13} {'CPU %':>6} {'':>4}")
        w("-" * (W + 14))
        return
    w(f"{'':47} {'ours':>9} {'ceiling':>9} {'ratio':>6} {'target':>7} {'rounds':>11}  {'srv CPU ms/1k':>13} {'client':>6} {'errs':>4}")
    w(f"{'':47} {'':>9} {'':>9} {'':>6} {'':>7} {'min-max':>11}  {'ours / ceil':>13} {'CPU %':>6} {'':>4}")
    w("-" * W)


verdicts = []


def row(label, key, ceil_key=None, target=None, ceil_side="ceiling", side="ours"):
    ceil_key = ceil_key or key
    ours = med(key, side, "rate")
    ceil = med(ceil_key, ceil_side, "rate")
    ratio = ours / ceil if ours is not None and ceil else None
    rr = round_ratios(key, ceil_key, ceil_side, side) if ceil_key == key else []
    paired = ceil_key == key and is_paired(key, side) and is_paired(key, ceil_side) and rr
    if paired:
        ratio = statistics.median(rr)  # of the groups' ratios, each from runs back to back
    tgt = ""
    if target is not None:
        ok = ratio is not None and ratio >= target
        tgt = f">={target:.2f}" + (" " if ok else "!")
        verdicts.append((label, ok, ratio, target))
    cpu = f"{fmt(srv_cpu_ms_per_1k(key, side), '{:.0f}')} / {fmt(srv_cpu_ms_per_1k(ceil_key, ceil_side), '{:.0f}')}"
    client = med(key, side, "cpu_client")
    errs = errors(key, side) + errors(ceil_key, ceil_side)
    rng = f"{min(rr):.2f}-{max(rr):.2f}" if len(rr) > 1 else ""
    if paired:  # the groups' middle half and range (header's two columns)
        q = statistics.quantiles(rr, n=4) if len(rr) >= 4 else None
        spread = f"{(f'{q[0]:.2f}-{q[2]:.2f}' if q else ''):>15} {rng:>9}"
    else:  # the rounds' min-max
        spread = f"{rng:>11}"
    w(f"{label:47} {fmt(ours):>9} {fmt(ceil):>9} {fmt(ratio, '{:.2f}'):>6} {tgt:>7} {spread}"
      f"  {cpu:>13} {fmt(client):>6} {errs:>4}")
    return ours, ceil


w("=" * W)
w(f"synkronus-fcgi benchmark  {facts.get('started', '')}  nproc={facts.get('nproc')} workers={facts.get('workers')}  "
  f"sync rows: {facts.get('rounds')} x {facts.get('seconds')} s per side, medians")
if facts.get("small_method") == "pairs":
    w(f"bundles and attachments: {facts.get('small_pairs')} groups of {facts.get('small_seconds')} s runs, one per side "
      f"back to back, order reversed every other group, at nice -10; ratio = median of the groups' ratios")
w(f"load average before/after: {facts.get('loadavg_before')} / {facts.get('loadavg_after')}   "
  f"(a shared machine: read the ratios, not the absolute figures)")
w("=" * W)

if ("push_b100_c1", "ours") in runs or ("pull_c1", "ours") in runs:
    header(f"SYNC (issue 4): records of ~{facts.get('avg_data_bytes', '?')} B JSON data; "
           f"pull table {int(facts.get('seed_records', 0)):,} records; rates in records/s")
    pull = {}
    for c in (1, 4):
        pull[c] = row(f"pull, pages of 500, {c} client{'s' if c > 1 else ''}", f"pull_c{c}",
                      target=0.50 if c == 1 else 0.40)
    obs_rows = []  # (label, key): observation rows beside record rows
    for c in (1, 4):
        if (f"pull_c{c}", "obs") in runs:
            row(f"  observations, since, {c} client{'s' if c > 1 else ''}", f"pull_c{c}", side="obs")
            obs_rows.append((f"pull, {c} client{'s' if c > 1 else ''}", f"pull_c{c}"))
    if ("pull_gzip_c1", "ours") in runs:
        row("pull, 1 client, Accept-Encoding: gzip (info)", "pull_gzip_c1", ceil_key="pull_c1")
    push = {}
    for b in (100, 500):
        for c in (1, 4, 16):
            push[(b, c)] = row(f"push, batches of {b}, {c} client{'s' if c > 1 else ''}", f"push_b{b}_c{c}",
                               target=0.50)
            if (f"push_b{b}_c{c}", "obs") in runs:
                row(f"  observations, batches of {b}, {c} client{'s' if c > 1 else ''}", f"push_b{b}_c{c}", side="obs")
                obs_rows.append((f"push, batches of {b}, {c} client{'s' if c > 1 else ''}", f"push_b{b}_c{c}"))
    w("-" * W)
    for b in (100, 500):
        o1, c1 = push[(b, 1)]
        o16, c16 = push[(b, 16)]
        o4, c4 = push[(b, 4)]
        if o1 and o16:
            # "Collapse": 16 clients get less than half of what one client gets.
            ok = o16 / o1 >= 0.5
            verdicts.append((f"push scaling 1->16 clients, batches of {b}", ok, o16 / o1, 0.5))
            w(f"push scaling, batches of {b}: 1 -> 4 -> 16 clients  ours x{o4 / o1:.2f} -> x{o16 / o1:.2f}"
              + (f"   ceiling x{c4 / c1:.2f} -> x{c16 / c1:.2f}" if c1 and c16 else "")
              + ("   (holds: >= x0.50)" if ok else "   (COLLAPSES: < x0.50)"))
    if obs_rows:
        # Issue 9: observations within 10% of records, per round (the two ran back to back).
        w("observations / records (issue 9 target >= 0.90), median of the rounds' ratios:")
        for label, key in obs_rows:
            rr = round_ratios(key, key, ceil_side="ours", side="obs")
            if not rr:
                continue
            ratio = statistics.median(rr)
            ok = ratio >= 0.90
            verdicts.append((f"observations / records, {label}", ok, ratio, 0.90))
            w(f"  {label:40} {ratio:.2f}  (rounds {min(rr):.2f}-{max(rr):.2f})" + ("" if ok else "  BELOW"))
    gap = [(f"pull, pages of 500", "pull_c1")] + [(f"push, batches of {b}", f"push_b{b}_c1") for b in (100, 500)]
    if any((k, "sql") in runs for _, k in gap):
        w("where the gap is, 1 client: the server's own SQL statements replayed straight against MariaDB,")
        w("  between the ceiling and the full API path (HTTPS, nginx, FastCGI, JSON, hashing):")
        for label, k in gap:
            c, q, o = med(k, "ceiling", "rate"), med(k, "sql", "rate"), med(k, "ours", "rate")
            if c and q and o:
                w(f"  {label:22} ceiling {c:>9,.0f}   server's SQL {q:>9,.0f} ({q / c:.2f})"
                  f"   API {o:>9,.0f} ({o / c:.2f}; {o / q:.2f} of the server's SQL)")
    if "peak_rss_pull_kib" in facts:
        mib = int(facts["peak_rss_pull_kib"]) / 1024
        ok = mib < 64
        verdicts.append(("worker peak RSS while pulling pages of 500", ok, mib, 64))
        w(f"peak RSS (VmHWM) of a worker while pulling pages of 500 x 1 KB: {mib:.1f} MiB (target < 64 MiB)"
          + ("" if ok else "  OVER"))
    if "peak_rss_push_kib" in facts:
        w(f"peak RSS (VmHWM) of a worker while pushing (batches up to 500): "
          f"{int(facts['peak_rss_push_kib']) / 1024:.1f} MiB")

def pair_cpu_ratios(key):
    """Server CPU per item, on / off, of each pair (bench/run.sh's pairs())."""
    def per(r):
        items = num(r, "items")
        pct = sum(num(r, f"cpu_{g}") for g in ("nginx", "workers", "db"))
        return pct / 100 * num(r, "seconds") / items if items and items == items else float("nan")
    on = [per(r) for r in runs.get((key, "on"), [])]
    off = [per(r) for r in runs.get((key, "off"), [])]
    return [a / b for a, b in zip(on, off) if b and a == a and b == b]


def spread(rr):
    """min-max of the pairs' ratios, and the middle half (quartiles) once there are 4."""
    q = statistics.quantiles(rr, n=4) if len(rr) >= 4 else None
    return f"pairs {min(rr):.2f}-{max(rr):.2f}" + (f", middle half {q[0]:.2f}-{q[2]:.2f}" if q else "")


def loads(key):
    ls = [num(r, "load1") for side in ("on", "off") for r in runs.get((key, side), [])]
    ls = [v for v in ls if v == v]
    return f"load {min(ls):.1f}-{max(ls):.1f}" if ls else ""


def on_off(title, rows, target, what):
    if not any((k, "on") in runs for _, k in rows):
        return
    # Issue 15: each pair's on and off ran back to back (bench/run.sh, pairs()).
    w(title)
    for label, key in rows:
        rr = round_ratios(key, key, ceil_side="off", side="on")
        on, off = med(key, "on", "rate"), med(key, "off", "rate")
        if not rr or not on or not off:
            continue
        ratio = statistics.median(rr)
        ok = ratio >= target
        verdicts.append((f"{what} on / off, {label}", ok, ratio, target))
        w(f"  {label:24} on {on:>9,.0f}   off {off:>9,.0f} records/s   {ratio:.2f}  ({spread(rr)}; {loads(key)})"
          + ("" if ok else "  BELOW"))
        cr = pair_cpu_ratios(key)
        if cr:
            w(f"  {'':24} server CPU per record, on / off: {statistics.median(cr):.2f}  ({spread(cr)})")
        dw = {sd: [num(r, "db_writes") / num(r, "ops") for r in runs.get((key, sd), [])
                   if num(r, "db_writes") == num(r, "db_writes") and num(r, "ops")] for sd in ("on", "off")}
        if dw["on"] and dw["off"]:
            # Counted over the whole run (its 0.5 s warmup too), per measured request.
            w(f"  {'':24} MariaDB write statements per request: on {statistics.median(dw['on']):.2f}"
              f" (max {max(dw['on']):.2f}), off {statistics.median(dw['off']):.2f} (max {max(dw['off']):.2f})")


on_off("record history on (365 days) / off (0), push batches of 100, 4 clients (issue 15 target >= 0.85):",
       [("inserting every record", "push_hist_ins_b100_c4"), ("updating every record", "push_hist_upd_b100_c4")],
       0.85, "history")
on_off("device presence on (interval 60 s) / off, pulls of pages of 500 (issue 15 target >= 0.95):",
       [("1 client", "pull_presence_c1"), ("4 clients", "pull_presence_c4")], 0.95, "presence")

def section(skipped_fact, name, first_key, title):
    """Prints a section's SKIPPED line or its header; True when its rows follow."""
    if skipped_fact in facts:
        w("")
        w(f"{name}: SKIPPED - {facts[skipped_fact]}")
        return False
    if (first_key, "ours") not in runs:
        return False
    header(f"{name}: {title}", paired=is_paired(first_key, "ours"))
    return True


if section("bundles_skipped", "BUNDLES (issue 3)", "dl_4k",
           "requests/s; ceiling = the same file from a static nginx location, no auth"):
    row("download 4 KB file (authorized, X-Accel)", "dl_4k", target=0.50)
    row("download 1 MB file (authorized, X-Accel)", "dl_1m", target=0.50)
    mb = med("dl_1m", "ours", "mb_s")
    row("304 on If-None-Match (vs static 304)", "not_modified", target=0.50)
    row("manifest (vs the same JSON as a static file)", "manifest", target=0.40)
    if ("dl_4k", "worker_404") in runs:
        row("  floor: unknown route, worker only (info)", "dl_4k", side="worker_404")
    # Issue 18: the same requests with a new FastCGI connection each (no kept connections).
    for label, key, side in (("4 KB file", "dl_4k", "once"), ("304", "not_modified", "once"),
                             ("manifest", "manifest", "once"), ("floor", "dl_4k", "worker_404_once")):
        if (key, side) in runs:
            row(f"  {label}, a FastCGI connection per request (info)", key, side=side)
            row(f"  {label}: kept / a connection per request (info)", key, ceil_side=side,
                side="worker_404" if side == "worker_404_once" else "ours")
    if ("dl_4k", "health") in runs:
        row("  floor: GET /health, worker + 1 query (info)", "dl_4k", side="health")
    if mb:
        w(f"1 MB downloads moved {mb:,.0f} MB/s through TLS")

if section("attachments_skipped", "ATTACHMENTS (issue 9)", "att_dl_4k",
           "per second; ceilings = a static nginx location, the same bytes written to disk"):
    row("download 4 KB attachment (authorized, X-Accel)", "att_dl_4k", target=0.50)
    row("download 1 MB attachment (authorized, X-Accel)", "att_dl_1m", target=0.50)
    if ("att_not_modified", "ours") in runs:
        row("304 on If-None-Match, 4 KB attachment (vs static)", "att_not_modified")
    for label, key in (("4 KB download", "att_dl_4k"), ("304", "att_not_modified")):
        if (key, "once") in runs:
            row(f"  {label}, a FastCGI connection per request (info)", key, side="once")
            row(f"  {label}: kept / a connection per request (info)", key, ceil_side="once")
    if ("att_up_4k", "ours") in runs:
        row("upload 4 KB, 4 clients (vs write+fsync+rename+INSERT)", "att_up_4k", target=0.50)
    row("upload 5 MB (multipart, hashed, fsync + rename)", "att_up_5m")
    if "peak_rss_upload_kib" in facts:
        before = int(facts.get("peak_rss_before_upload_kib", 0)) / 1024
        w(f"peak RSS (VmHWM) of a worker while receiving 5 MB uploads: "
          f"{int(facts['peak_rss_upload_kib']) / 1024:.1f} MiB (largest resident set before them: {before:.1f} MiB)")

mem = [(k, facts[k]) for k in ("mem_rest_start", "mem_load_pull", "mem_load_push", "mem_load_upload",
                                 "mem_rest_after_sync", "mem_rest_end") if k in facts]
if mem:
    w("")
    w(f"WORKER MEMORY (issue 18): RSS / PSS per worker from /proc/PID/smaps_rollup, MiB; under load = the sample")
    w(f"  (every 0.25 s) with the largest PSS sum during that part of the run; target: PSS sum under load <= 60 MiB")
    w("-" * W)
    loads = []
    for k, v in mem:
        parts = v.split()
        if len(parts) != 3:
            continue
        per = [p.split(":") for p in parts[0].split(",")]
        sum_rss, sum_pss = int(parts[1]) / 1024, int(parts[2]) / 1024
        each = "  ".join(f"{int(r) / 1024:.1f}/{int(q) / 1024:.1f}" for _, r, q in per)
        label = k.replace("mem_", "").replace("_", " ")
        w(f"  {label:22} sum RSS {sum_rss:6.1f}  sum PSS {sum_pss:6.1f}   each RSS/PSS: {each}")
        if k.startswith("mem_load"):
            loads.append((label, sum_pss))
    if loads:
        worst = max(loads, key=lambda x: x[1])
        ok = worst[1] <= 60
        verdicts.append((f"summed worker PSS under load ({worst[0]})", ok, worst[1], 60))
        w(f"  largest PSS sum under load: {worst[1]:.1f} MiB ({worst[0]})" + ("" if ok else "  OVER 60 MiB"))

w("-" * W)
bad = [v for v in verdicts if not v[1]]
w(f"targets met: {len(verdicts) - len(bad)} of {len(verdicts)}"
  + ("" if not bad else "; below target: " + "; ".join(f"{v[0]} ({fmt(v[2], '{:.2f}')})" for v in bad)))
def busiest(prefixes):
    """The highest client CPU of any run of ours under these keys, with its key."""
    return max(((num(r, "cpu_client"), k) for (k, side), rs in runs.items()
                if side == "ours" and k.startswith(prefixes) for r in rs), default=None)


sync_b, bundle_b = busiest(("pull", "push")), busiest(("dl_", "not_modified", "manifest", "att_"))
if sync_b or bundle_b:
    w("load generator CPU (100 = one core of 2): "
      + (f"sync runs at most {sync_b[0]:.0f}% ({sync_b[1]}); " if sync_b else "")
      + (f"bundle runs at most {bundle_b[0]:.0f}% ({bundle_b[1]}: TLS decryption, the same bytes "
         f"on the ceiling's side)" if bundle_b else ""))
errs = sum(errors(k, s) for (k, s) in runs)
w(f"client errors: {errs}" + ("" if not errs else " (see build/bench/bench.log)")
  + f"   elapsed: {facts.get('elapsed_s', '?')} s")
print("\n".join(out))

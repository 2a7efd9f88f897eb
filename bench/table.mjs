// Prints the results of bench/run.sh as a Markdown table: node table.mjs INDEX, where each line
// of INDEX is "<server> <case> <result.json>".
//
// With --cluster, the results of bench/cluster.sh: node table.mjs --cluster INDEX, where each line
// of INDEX is "<server> <case> <viewers on A|B> <rate> <result.json> <extra.json>" (extra.json:
// the CPU of the node and of Redis that the script sampled itself).
import { readFileSync, existsSync } from "node:fs";

const cluster = process.argv[2] === "--cluster";
const index = readFileSync(process.argv[cluster ? 3 : 2], "utf8").trim().split("\n").filter(Boolean);
const f = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? "-" : Number(v).toFixed(d));
const k = (v) => (v === undefined ? "-" : Math.round(v).toLocaleString("en-US"));
const lat = (v) => (v === undefined ? "-" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const readJSON = (file) => {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
};

if (cluster) {
  clusterTable();
  process.exit(0);
}

const cols = [
  "server", "case", "viewers", "rate/s", "sent", "expected", "received", "lost", "dup/ooo",
  "deliveries/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
  "srv CPU %", "us/delivery", "srv RSS max MiB", "RSS growth MiB", "longest send ms", "idle KiB/viewer",
  "loadgen CPU %", "cores busy %", "other %",
];
console.log("| " + cols.join(" | ") + " |");
console.log("|" + cols.map(() => "---").join("|") + "|");
for (const line of index) {
  const [server, name, file] = line.split(/\s+/);
  if (!existsSync(file)) {
    console.log(`| ${server} | ${name} | failed (no result, see ${file.replace(/\.json$/, ".log")}) |`);
    continue;
  }
  let r;
  try {
    r = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    console.log(`| ${server} | ${name} | failed (see ${file.replace(/\.json$/, ".log")}) |`);
    continue;
  }
  const s = r.server || {};
  const idle = r.rate === 0;
  const row = [
    server, name,
    `${r.viewersConnected}${r.viewerConnectFailures ? ` (${r.viewerConnectFailures} failed)` : ""}${r.viewersDropped ? ` (${r.viewersDropped} dropped)` : ""}`,
    idle ? "idle" : `${r.sessions}x${r.rate}`,
    idle ? "-" : k(r.sentMeasured), idle ? "-" : k(r.expected), idle ? "-" : k(r.received), idle ? "-" : k(r.lost),
    idle ? "-" : `${r.duplicates}/${r.outOfOrder}`,
    idle ? "-" : k(r.deliveriesPerSecond),
    idle ? "-" : lat(r.latencyMs.p50), idle ? "-" : lat(r.latencyMs.p90), idle ? "-" : lat(r.latencyMs.p99),
    idle ? "-" : lat(r.latencyMs.p999), idle ? "-" : lat(r.latencyMs.max),
    f(s.cpuPercent, 0), idle ? "-" : f(s.cpuMicrosPerDelivery, 1), f((s.rssMaxKiB || 0) / 1024, 0),
    idle ? "-" : f(((s.rssMaxKiB || 0) - (s.rssAfterViewersKiB || 0)) / 1024, 0),
    idle ? "-" : f(r.publisherMaxBlockMs, 1),
    f(s.idleRssPerViewerKiB, 1), f(r.loadgenCpuPercent, 0),
    (r.cpuBusyPercent || []).map((b) => b.toFixed(0)).join("/"),
    f(r.otherCpuPercent, 0),
  ];
  console.log("| " + row.join(" | ") + " |");
}

function clusterTable() {
  const cols = [
    "server", "case", "viewers on", "rate/s", "deliveries/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
    "sent/expected/received/lost", "dup/ooo", "node A CPU %", "node B CPU %", "Redis CPU %",
    "cluster us/delivery", "loadgen CPU %", "other %",
  ];
  console.log("| " + cols.join(" | ") + " |");
  console.log("|" + cols.map(() => "---").join("|") + "|");
  for (const line of index) {
    const [server, name, on, rate, file, extraFile] = line.split(/\s+/);
    const r = existsSync(file) ? readJSON(file) : undefined;
    const x = readJSON(extraFile);
    if (!r || !x) {
      console.log(`| ${server} | ${name} | ${on} | ${rate} | failed (see ${file.replace(/\.json$/, ".log")}) |`);
      continue;
    }
    // The generator sampled the viewers' node; the script sampled the other one and Redis.
    const s = r.server || {};
    const cpu = { [on === "single" ? "A" : on]: s.cpuPercent };
    if (x.sampledNode) cpu[x.sampledNode] = x.sampledCpuPercent;
    const clusterCpuSeconds = (s.cpuSeconds || 0) + x.sampledCpuSeconds + x.redisCpuSeconds;
    const other = r.otherCpuPercent - x.sampledCpuPercent - x.redisCpuPercent;
    const row = [
      server, name, `${on}${r.viewerConnectFailures ? ` (${r.viewerConnectFailures} failed)` : ""}${r.viewersDropped ? ` (${r.viewersDropped} dropped)` : ""}`,
      rate, k(r.deliveriesPerSecond),
      lat(r.latencyMs.p50), lat(r.latencyMs.p90), lat(r.latencyMs.p99), lat(r.latencyMs.p999),
      `${k(r.sentMeasured)}/${k(r.expected)}/${k(r.received)}/${k(r.lost)}`,
      `${r.duplicates}/${r.outOfOrder}`,
      f(cpu.A, 0), f(cpu.B, 0), on === "single" ? "-" : f(x.redisCpuPercent, 0),
      r.deliveredInWindow > 0 ? f((clusterCpuSeconds * 1e6) / r.deliveredInWindow, 1) : "-",
      f(r.loadgenCpuPercent, 0), f(Math.max(0, other), 0),
    ];
    console.log("| " + row.join(" | ") + " |");
  }
}

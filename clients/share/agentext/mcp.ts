// MCP servers for pi: the stdio servers named under `mcpServers` in ~/.pizzapi/config.json and the
// project's .pizzapi/config.json (the project's win by name), each started as a child process
// speaking JSON-RPC 2.0 in JSON lines; their tools become pi tools named mcp_<server>_<tool>.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** A configured stdio server. */
interface ServerConfig {
  name: string;
  source: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** The state the `mcp` command reports. */
export interface McpState {
  toolCount: number;
  toolNames: string[];
  errors: { server: string; error: string }[];
  servers: { name: string; source: string; command: string }[];
  loadedAt: string;
  summary: string;
  lines: string[];
}

interface McpTool {
  name: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
}

const requestTimeoutMs = 60_000;
const maxToolName = 64;

/** Reads the servers of one config file (configuration errors are reported, not thrown). */
function readConfig(path: string, errors: McpState["errors"]): ServerConfig[] {
  if (!existsSync(path)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf-8"));
  } catch (e) {
    errors.push({ server: path, error: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` });
    return [];
  }
  const servers = (raw as { mcpServers?: unknown })?.mcpServers;
  if (!servers || typeof servers !== "object") return [];
  const out: ServerConfig[] = [];
  for (const [name, def] of Object.entries(servers as Record<string, unknown>)) {
    const d = def as { command?: unknown; args?: unknown; env?: unknown };
    if (typeof d?.command !== "string") {
      errors.push({ server: name, error: "only stdio servers (with a command) are supported" });
      continue;
    }
    const args = Array.isArray(d.args) ? d.args.map(String) : [];
    const env: Record<string, string> = {};
    if (d.env && typeof d.env === "object") for (const [k, v] of Object.entries(d.env)) env[k] = String(v);
    out.push({ name, source: path, command: d.command, args, env });
  }
  return out;
}

/** One running server. */
class StdioClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = "";
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Error | null = null;

  constructor(readonly config: ServerConfig) {
    this.child = spawn(config.command, config.args, { env: { ...process.env, ...config.env }, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => this.read(chunk));
    this.child.stderr.resume();
    const fail = (e: Error) => {
      this.exited = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.child.on("error", (e) => fail(e));
    this.child.on("exit", (code) => fail(new Error(`the server exited (${code})`)));
  }

  private read(chunk: string) {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      let msg: { id?: number; result?: unknown; error?: { message?: string } };
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      const w = typeof msg.id === "number" ? this.waiting.get(msg.id) : undefined;
      if (!w) continue;
      this.waiting.delete(msg.id as number);
      if (msg.error) w.reject(new Error(msg.error.message ?? "MCP error"));
      else w.resolve(msg.result);
    }
  }

  request(method: string, params?: unknown, signal?: AbortSignal): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${method} timed out`)), requestTimeoutMs);
      const onAbort = () => done(new Error(`${method} was cancelled`));
      const done = (e: Error | null, v?: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.waiting.delete(id);
        if (e) reject(e);
        else resolve(v);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.set(id, { resolve: (v) => done(null, v), reject: (e) => done(e) });
      this.child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    });
  }

  notify(method: string) {
    this.child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method }) + "\n");
  }

  async start(): Promise<McpTool[]> {
    await this.request("initialize", { protocolVersion: "2024-11-05", capabilities: {}, clientInfo: { name: "pizzapi", version: "1" } });
    this.notify("notifications/initialized");
    const res = (await this.request("tools/list", {})) as { tools?: McpTool[] };
    return Array.isArray(res?.tools) ? res.tools : [];
  }

  close() {
    this.child.kill();
  }
}

function part(s: string): string {
  return (
    s
      .trim()
      .replace(/[^a-zA-Z0-9_-]+/g, "_")
      .replace(/_+/g, "_")
      .replace(/^_+|_+$/g, "")
      .toLowerCase() || "tool"
  );
}

/** A tool name providers accept (at most 64 characters), unique among used. */
function toolName(server: string, tool: string, used: Set<string>): string {
  let name = `mcp_${part(server)}_${part(tool)}`;
  const hash = createHash("sha256").update(`${server}:${tool}`).digest("hex").slice(0, 8);
  if (name.length > maxToolName) name = `${name.slice(0, maxToolName - 9)}_${hash}`;
  for (let i = 2; used.has(name); i++) name = `${name.slice(0, maxToolName - 12)}_${hash}${i}`;
  used.add(name);
  return name;
}

/** The MCP bridge: load() (re)starts the configured servers and registers their tools. */
export class McpBridge {
  private clients: StdioClient[] = [];
  private registered = new Map<string, { client: StdioClient; tool: string }>();
  state: McpState = { toolCount: 0, toolNames: [], errors: [], servers: [], loadedAt: new Date(0).toISOString(), summary: "MCP tools loaded: 0", lines: ["MCP tools loaded: 0"] };

  constructor(private readonly register: (tool: { name: string; label: string; description: string; parameters: unknown; execute: (id: string, params: unknown, signal?: AbortSignal) => Promise<unknown> }) => void) {}

  async load(cwd: string): Promise<McpState> {
    this.close();
    const errors: McpState["errors"] = [];
    const byName = new Map<string, ServerConfig>();
    for (const path of [join(homedir(), ".pizzapi", "config.json"), join(cwd, ".pizzapi", "config.json")]) {
      for (const s of readConfig(path, errors)) byName.set(s.name, s);
    }
    const used = new Set<string>();
    const names: string[] = [];
    const registered = new Map<string, { client: StdioClient; tool: string }>();
    for (const config of byName.values()) {
      const client = new StdioClient(config);
      this.clients.push(client);
      let tools: McpTool[];
      try {
        tools = await client.start();
      } catch (e) {
        errors.push({ server: config.name, error: e instanceof Error ? e.message : String(e) });
        client.close();
        continue;
      }
      for (const tool of tools) {
        if (!tool?.name) continue;
        const name = toolName(config.name, tool.name, used);
        names.push(name);
        registered.set(name, { client, tool: tool.name });
        // A reloaded server's tool of the same name is routed to the new client.
        if (this.registered.has(name)) continue;
        const parameters = { ...(tool.inputSchema ?? { type: "object", additionalProperties: true }) };
        delete (parameters as Record<string, unknown>).$schema;
        this.register({
          name,
          label: `${config.name}:${tool.name}`,
          description: `${tool.description ?? "MCP tool"} (MCP server ${config.name})`,
          parameters,
          execute: async (_id, params, signal) => {
            const target = this.registered.get(name);
            if (!target) return { content: [{ type: "text", text: `The MCP tool ${name} is no longer available.` }], details: undefined };
            const res = (await target.client.request("tools/call", { name: target.tool, arguments: params ?? {} }, signal)) as { content?: unknown; isError?: boolean };
            const content = Array.isArray(res?.content) ? res.content : [{ type: "text", text: JSON.stringify(res) }];
            return { content, details: { isError: res?.isError === true } };
          },
        });
      }
    }
    for (const name of registered.keys()) this.registered.set(name, registered.get(name)!);
    for (const name of [...this.registered.keys()]) if (!registered.has(name)) this.registered.delete(name);
    const summary = `MCP tools loaded: ${names.length}`;
    this.state = {
      toolCount: names.length,
      toolNames: names,
      errors,
      servers: [...byName.values()].map((s) => ({ name: s.name, source: s.source, command: s.command })),
      loadedAt: new Date().toISOString(),
      summary,
      lines: [summary, ...names.map((n) => `- ${n}`), ...errors.map((e) => `! ${e.server}: ${e.error}`)],
    };
    return this.state;
  }

  close() {
    for (const c of this.clients) c.close();
    this.clients = [];
  }
}

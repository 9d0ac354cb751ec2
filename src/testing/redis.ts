import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A real redis-server per test file, on a Unix socket in a temp dir (no TCP port to collide on).

export function redisServerAvailable(): boolean {
  return spawnSync("redis-server", ["--version"], { encoding: "utf8" }).status === 0;
}

export interface RedisProcess {
  readonly url: string;
  readonly dir: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export interface RedisStartOptions {
  /** Append-only persistence in `dir` (for restart tests). */
  readonly appendonly?: boolean;
  /** Reuse a directory (and its append-only file) from an earlier server. */
  readonly dir?: string;
  /** How many databases the server has (redis-server's default: 16). */
  readonly databases?: number;
  /** The password clients must give (`requirepass`). */
  readonly password?: string;
}

export async function startRedis(opts: RedisStartOptions = {}): Promise<RedisProcess> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "xmcfuzz-redis-"));
  const socket = join(dir, "redis.sock");
  const args = ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--dir", dir, "--save", "",
    "--appendonly", opts.appendonly ? "yes" : "no", "--appendfsync", "always", "--daemonize", "no", "--logfile", join(dir, "redis.log"),
    ...(opts.databases ? ["--databases", String(opts.databases)] : []), ...(opts.password ? ["--requirepass", opts.password] : [])];
  const child = spawn("redis-server", args, { stdio: "ignore" });
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(socket)) {
    child.kill("SIGKILL");
    throw new Error(`redis-server did not start (see ${join(dir, "redis.log")})`);
  }
  return {
    url: `unix://${socket}`, dir, child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGCONT");
        child.kill("SIGTERM");
        await exited;
      }
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

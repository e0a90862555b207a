import { existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { defineConfig } from "@playwright/test";

// The browser tests drive the built console (web/dist) served by a real server process, which
// `python -m tests.e2e.console_server` starts on SQLite with fake Telegram and OpenAI upstreams.
// Playwright's own browser download is not used: the system Chromium (Debian's `chromium`).
function onPath(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} not found on PATH: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
}

const port = Number(process.env.CONSOLE_E2E_PORT ?? 18180);
const controlPort = port + 1;
const repo = resolve(import.meta.dirname, "..");
const python = process.env.PYTHON ?? join(repo, ".venv/bin/python");
process.env.CONSOLE_E2E_CONTROL_URL = `http://127.0.0.1:${controlPort}`;

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results/artifacts",
  fullyParallel: false,
  workers: 2,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 7_000 },
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: "chromium",
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? onPath("chromium"), args: ["--no-sandbox"] },
    viewport: { width: 1280, height: 800 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  webServer: {
    command: `${python} -m tests.e2e.console_server --port ${port} --control-port ${controlPort}`,
    cwd: repo,
    url: `http://127.0.0.1:${port}/readyz`,
    timeout: 90_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
  },
});

// Debian's Chromium, which .ci/run installs, driven by playwright-core. The flags keep it off the
// network this machine does not have (background services, component updates, sync and QUIC
// would otherwise try Google's hosts at every start) and run it as root in a container.
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

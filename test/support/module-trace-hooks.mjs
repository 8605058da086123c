// Module customization hooks that print every module a process loads (one `LOADED url`
// line on stderr each), so a test can check what a command does not load.
export async function load(url, context, nextLoad) {
  if (!url.startsWith('node:')) process.stderr.write(`LOADED ${url}\n`);
  return nextLoad(url, context);
}

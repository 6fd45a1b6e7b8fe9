// The keeper deployable: read the environment, run the keeper until SIGTERM/SIGINT. Logic lives in
// packages/keeper (runKeeper); this is the same as `fieldproof keeper`.
import { configErrorLine, loadConfig } from '@fieldproof/config';
import { runKeeper } from '@fieldproof/keeper';

async function main(): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig(process.env);
  } catch (err) {
    const line = configErrorLine(err);
    if (line === undefined) throw err;
    process.stderr.write(`${line}\n`);
    return 2;
  }
  return runKeeper(loaded);
}

process.exitCode = await main();

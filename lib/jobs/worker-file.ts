/**
 * Which file a training worker runs. From the compiled package, `training-worker.js` next to this module;
 * from the TypeScript sources (ts-jest, tsx), a small .js bootstrap that registers tsx and then loads
 * `training-worker.ts` (a worker does not inherit the parent's TypeScript hooks).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface WorkerFile {
  file: string;
  /** For the bootstrap: the TypeScript module it loads. */
  entry?: string;
}

export function trainingWorkerFile(): WorkerFile {
  const compiled = path.join(__dirname, 'training-worker.js');
  if (path.extname(__filename) === '.js' && fs.existsSync(compiled)) return { file: compiled };
  const source = path.join(__dirname, 'training-worker.ts');
  const bootstrap = path.join(__dirname, 'ts-worker-bootstrap.js');
  if (fs.existsSync(source) && fs.existsSync(bootstrap)) return { file: bootstrap, entry: source };
  throw new Error(`vugrad jobs: no training worker next to ${__filename} (expected training-worker.js, or training-worker.ts with tsx)`);
}

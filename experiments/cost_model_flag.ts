/**
 * The `--cost-model FILE` flag of the tasks that estimate time (sweep, verify, budget): the
 * cost model a file holds (`deno task calibrate --out`, lib/calibrate/model_file.ts), or the
 * default one without the flag. A file that cannot be read or holds no cost model is one
 * line naming the flag and the file, exit 2 (./cli.ts `fail`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { defaultCostBase } from "../lib/sweep/spec.ts";
 * import { costModelFlag } from "./cost_model_flag.ts";
 * assertEquals(await costModelFlag(undefined), defaultCostBase());
 * ```
 * @module
 */

import { CostModelFileError, readCostModelFile } from "../lib/calibrate/model_file.ts";
import { type CostBase, defaultCostBase } from "../lib/sweep/spec.ts";
import { fail } from "./cli.ts";

/** The cost model of `--cost-model file`, or the default one when `file` is undefined. */
export async function costModelFlag(file: string | undefined): Promise<CostBase> {
  if (file === undefined) return defaultCostBase();
  try {
    return await readCostModelFile(file);
  } catch (e) {
    if (e instanceof CostModelFileError) fail(`--cost-model: ${e.message}`);
    throw e;
  }
}

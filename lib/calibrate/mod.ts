/**
 * Measured cost: a recording of `kvm_nested_s2_unmap()` on a nested host
 * ({@linkcode parseRecording}, recording.ts, both function_graph and bpftrace), matched
 * to the model's counts for the program's host events ({@linkcode stageModels},
 * {@linkcode fitCostModel}, fit.ts), and the cost model file it becomes
 * ({@linkcode parseCostModelFile}, {@linkcode readCostModelFile},
 * {@linkcode costModelOf}, model_file.ts), which the sweep's CostModel reads.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { DESCRIPTOR_RATIO, UNMAP_FUNCTION } from "./mod.ts";
 * assertEquals([UNMAP_FUNCTION, DESCRIPTOR_RATIO], ["kvm_nested_s2_unmap", 0.1]);
 * ```
 * @module
 */

export {
  BPFTRACE_PROGRAM,
  parseRecording,
  type Recording,
  RecordingError,
  type StageBlock,
  type Tracer,
  TRACERS,
  UNMAP_FUNCTION,
  type UnmapCall,
  WALK_FUNCTION,
} from "./recording.ts";
export {
  DEFAULT_RECORDED_STRATEGY,
  DESCRIPTOR_RATIO,
  fitCostModel,
  spreadOf,
  stageModels,
} from "./fit.ts";
export {
  COST_MODEL_FILE_FIELDS,
  COST_MODEL_FORMAT,
  COST_MODEL_VERSION,
  type CostModelFile,
  CostModelFileError,
  type CostModelFileField,
  costModelOf,
  describeCostModel,
  parseCostModelFile,
  readCostModelFile,
  type Spread,
  STAGE_FIELDS,
  type StageFit,
  type StageModel,
} from "./model_file.ts";

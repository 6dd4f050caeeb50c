/**
 * From a recording of `kvm_nested_s2_unmap()` to a cost model: the recording's stages are
 * matched to the program's host events, the model's counts for each event come from
 * replaying the trace as the program performs it (lib/selftest/plan.ts `exportedTrace()`,
 * lib/trace/replay.ts) with the design the recorded kernel runs (upstream: `full-walk`),
 * and every recorded call becomes one sample of ns per iteration.
 *
 * Matching. Every call inside a stage block is a call for that stage's host event: the
 * core mm may invalidate a range in several notifier calls (one per folio when pages move
 * one by one), and with upstream's full walk each call walks every valid shadow MMU's
 * whole IPA space, so the event's iterations hold for each call; its descriptors hold for
 * the first call and exceed a later one's by at most the leaves the first removed. A call
 * whose recorded walks (`kvm_stage2_unmap_range()` calls inside it) differ from the
 * model's walks for the event is not a sample: the kernel walked other shadow MMUs than
 * the model has (other L2 VMs, or MMUs L1 left valid), so its iterations are unknown. A
 * stage whose event costs no iteration in the model (no valid shadow MMU) gives no sample.
 *
 * Fit. The cost of a call is modelled as iterations x a + descriptors x b (lib/sweep/
 * costmodel.ts). On a full walk the descriptors of an empty chunk are fixed by the
 * geometry (one per level the walk enters), so descriptors grow with iterations and the
 * durations cannot separate a from b. The recording fixes the scale; the split stays the
 * default model's, b = {@linkcode DESCRIPTOR_RATIO} x a: each call gives
 * a = ns / (iterations + ratio x descriptors), and the file holds their mean, standard
 * deviation, minimum and maximum.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { spreadOf } from "./fit.ts";
 * assertEquals(spreadOf([20, 22, 24]), { mean: 22, sd: 2, min: 20, max: 24 });
 * ```
 * @module
 */

import { DEFAULT_WATCHDOG_THRESH_S, defaultCostModel } from "../sweep/costmodel.ts";
import { makeStrategy } from "../strategies/mod.ts";
import type { ReverseMapStrategy } from "../kvm/strategy.ts";
import { replay } from "../trace/replay.ts";
import type { Trace } from "../trace/trace.ts";
import { expectSelftest } from "../selftest/expect.ts";
import { exportedTrace } from "../selftest/plan.ts";
import { type Recording, RecordingError } from "./recording.ts";
import {
  COST_MODEL_FORMAT,
  COST_MODEL_VERSION,
  type CostModelFile,
  type Spread,
  type StageFit,
  type StageModel,
} from "./model_file.ts";

/** nsPerDescriptor / nsPerIteration of the default model, kept by the fit (see the module doc). */
export const DESCRIPTOR_RATIO = defaultCostModel().nsPerDescriptor /
  defaultCostModel().nsPerIteration;

/** The design upstream's kvm_nested_s2_unmap() is. */
export const DEFAULT_RECORDED_STRATEGY = "full-walk";

/** Round to 1/1000 (ns figures in the file). */
const milli = (x: number) => Math.round(x * 1000) / 1000;

/** Mean, sample standard deviation, minimum and maximum of `xs` (not empty), to 1/1000. */
export function spreadOf(xs: number[]): Spread {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return {
    mean: milli(mean),
    sd: milli(sd),
    min: milli(Math.min(...xs)),
    max: milli(Math.max(...xs)),
  };
}

/** `strategy` with a counter of the kvm_stage2_unmap_range() calls it makes. */
function countingWalks(
  strategy: ReverseMapStrategy,
): { strategy: ReverseMapStrategy; walks: () => number } {
  let n = 0;
  const attach = strategy.attach.bind(strategy);
  strategy.attach = (ops) =>
    attach({
      ...ops,
      unmapShadowRange(mmu, start, size) {
        n++;
        ops.unmapShadowRange(mmu, start, size);
      },
    });
  return { strategy, walks: () => n };
}

/**
 * The model's work at each host stage of the program generated from `trace` to show
 * `shows`, with the recorded kernel's design `strategy`. Throws RangeError for an unknown
 * strategy.
 */
export function stageModels(trace: Trace, shows: string, strategy: string): StageModel[] {
  const plan = expectSelftest(trace, shows).plan;
  const counted = countingWalks(makeStrategy(strategy));
  const walks: number[] = [];
  let before = 0;
  const r = replay(exportedTrace(plan), counted.strategy, {
    oracle: false,
    onEvent: (e) => {
      walks[e.index] = counted.walks() - before;
      before = counted.walks();
    },
  });
  return plan.exported.flatMap((x, j) =>
    x.action?.kind === "host"
      ? [{
        stage: x.action.stage,
        event: x.action.event,
        op: x.action.op,
        iterations: r.events[j].iterations,
        descriptors: r.events[j].descriptors,
        walks: walks[j],
      }]
      : []
  );
}

/** What {@linkcode fitCostModel} needs besides the recording and the models. */
export interface FitSource {
  /** The recording's SHA-256. */
  recordingSha256: string;
  /** The recorded kernel's design. */
  strategy: string;
}

/**
 * Fit a cost model to a recording (see the module doc). Returns the file and notes for
 * the user (calls that are not samples, and why). Throws {@linkcode RecordingError} for a
 * stage the program does not have, or a recording without a single sample.
 */
export function fitCostModel(
  rec: Recording,
  models: StageModel[],
  source: FitSource,
): { file: CostModelFile; notes: string[] } {
  const notes: string[] = [];
  const perStage = new Map<number, { calls: number; ns: number[]; a: number[] }>();
  for (const block of rec.stages) {
    const m = models.find((s) => s.stage === block.stage);
    if (!m) {
      throw new RecordingError(
        `${rec.file}:${block.line}: stage ${block.stage}: ${rec.program} has ${
          models.length === 0 ? "no host stage" : `stages ${models.map((s) => s.stage).join(", ")}`
        }`,
      );
    }
    const acc = perStage.get(m.stage) ?? { calls: 0, ns: [], a: [] };
    perStage.set(m.stage, acc);
    acc.calls += block.calls.length;
    if (block.incomplete > 0) {
      notes.push(
        `${rec.file}:${block.line}: stage ${block.stage}: ${block.incomplete} call(s) cut by the recording's edges, not samples`,
      );
    }
    for (const call of block.calls) {
      if (m.iterations === 0) {
        notes.push(
          `${rec.file}:${call.line}: stage ${m.stage}: the model spends no iteration on event #${m.event} (no valid shadow MMU): not a sample`,
        );
        continue;
      }
      if (call.walks !== null && call.walks !== m.walks) {
        notes.push(
          `${rec.file}:${call.line}: stage ${m.stage}: the call walks ${call.walks} shadow MMU(s), the model ${m.walks}: not a sample`,
        );
        continue;
      }
      acc.ns.push(call.ns);
      acc.a.push(call.ns / (m.iterations + DESCRIPTOR_RATIO * m.descriptors));
    }
  }
  const a = [...perStage.values()].flatMap((s) => s.a);
  if (a.length === 0) {
    throw new RecordingError(
      `${rec.file}:${
        rec.stages[0]?.line ?? 1
      }: no call of kvm_nested_s2_unmap() matches the model ${
        rec.stages.length === 0 ? "(no stage block)" : `(${notes.length} call(s) left out)`
      }`,
    );
  }
  const stages: StageFit[] = models.filter((m) => perStage.has(m.stage)).map((m) => {
    const s = perStage.get(m.stage)!;
    return {
      stage: m.stage,
      event: m.event,
      op: m.op,
      iterations: m.iterations,
      descriptors: m.descriptors,
      walks: m.walks,
      calls: s.calls,
      samples: s.ns.length,
      ns: s.ns.length > 0 ? spreadOf(s.ns) : { mean: 0, sd: 0, min: 0, max: 0 },
    };
  });
  const perIteration = spreadOf(a);
  const perDescriptor = spreadOf(a.map((x) => x * DESCRIPTOR_RATIO));
  const thresh = rec.watchdogThresh ?? DEFAULT_WATCHDOG_THRESH_S;
  if (rec.watchdogThresh === null) {
    notes.push(
      `${rec.file}: no watchdog_thresh line: the soft-lockup threshold stays 2 x ${DEFAULT_WATCHDOG_THRESH_S} s`,
    );
  }
  return {
    file: {
      format: COST_MODEL_FORMAT,
      version: COST_MODEL_VERSION,
      machine: rec.machine,
      nsPerIteration: perIteration,
      nsPerDescriptor: perDescriptor,
      descriptorRatio: DESCRIPTOR_RATIO,
      samples: a.length,
      softLockupNs: 2 * thresh * 1e9,
      source: {
        recording: rec.file,
        recordingSha256: source.recordingSha256,
        tracer: rec.format,
        trace: rec.trace,
        traceSha256: rec.traceSha256,
        program: rec.program,
        shows: rec.shows,
        strategy: source.strategy,
      },
      stages,
    },
    notes,
  };
}

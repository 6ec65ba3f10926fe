import { InvalidArgumentError, describeValue } from "../errors";
import { LkmmMemory } from "./lkmm-memory";
import type { MemoryChoices, MemoryModelName, SharedMemory } from "./model";
import { MEMORY_MODELS } from "./model";
import { ScMemory } from "./sc-memory";
import { TsoMemory } from "./tso-memory";

/** A shared memory of `cpus` CPUs under `model`; its choices come from `choices`. */
export function createSharedMemory(
  model: MemoryModelName,
  cpus: number,
  choices: MemoryChoices,
): SharedMemory {
  if (!MEMORY_MODELS.includes(model)) {
    throw new InvalidArgumentError(
      `unknown memory model ${describeValue(model)}: use ${MEMORY_MODELS.join(", ")}`,
    );
  }
  if (model === "sc") return new ScMemory();
  if (model === "tso") return new TsoMemory(cpus);
  return new LkmmMemory(cpus, choices);
}

/**
 * The allowed values of every enumerated run option, as runtime lists.
 *
 * The union types live in src-shared/diffusion/types.ts (shared with the engine); the validator and the
 * New Run form need the values at runtime too, so they are listed here once. Each list is checked against
 * its union type in both directions (see `Exhaustive` below), so adding a value to a union without adding it
 * here is a compile error rather than a silently rejected option.
 */
import type {
  MeanType,
  Objective,
  ScheduleName,
  TimestepSamplerName,
  VarianceType,
} from '../diffusion/types';

/** Where the training images come from (ARCHITECTURE: src-main/data). */
export type DatasetKind = 'mnist' | 'idx' | 'cifar10' | 'folder';

/**
 * Which tfjs backend the worker should try first. 'auto' walks the chain
 * tfjs-node-gpu → webgpu → tfjs-node → wasm → cpu and records why it stopped where it did.
 */
export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Compile-time proof that a tuple lists exactly the members of union U (no more, no fewer). */
type Exhaustive<U, L extends readonly U[]> = [U] extends [L[number]] ? L : never;

export const DATASET_KINDS = ['mnist', 'idx', 'cifar10', 'folder'] as const satisfies readonly DatasetKind[];
export const BACKEND_PREFERENCES = [
  'auto',
  'tensorflow-gpu',
  'webgpu',
  'tensorflow',
  'wasm',
  'cpu',
] as const satisfies readonly BackendPreference[];
export const SCHEDULE_NAMES = ['linear', 'cosine'] as const satisfies readonly ScheduleName[];
export const OBJECTIVES = ['simple', 'hybrid', 'vlb'] as const satisfies readonly Objective[];
export const VARIANCE_TYPES = [
  'learned_range',
  'fixed_small',
  'fixed_large',
  'learned',
] as const satisfies readonly VarianceType[];
export const MEAN_TYPES = ['epsilon', 'start_x'] as const satisfies readonly MeanType[];
export const TIMESTEP_SAMPLERS = [
  'uniform',
  'loss-second-moment',
] as const satisfies readonly TimestepSamplerName[];

// If one of these lines fails to compile, a union gained a member that its list above lacks.
const _exhaustive: [
  Exhaustive<DatasetKind, typeof DATASET_KINDS>,
  Exhaustive<BackendPreference, typeof BACKEND_PREFERENCES>,
  Exhaustive<ScheduleName, typeof SCHEDULE_NAMES>,
  Exhaustive<Objective, typeof OBJECTIVES>,
  Exhaustive<VarianceType, typeof VARIANCE_TYPES>,
  Exhaustive<MeanType, typeof MEAN_TYPES>,
  Exhaustive<TimestepSamplerName, typeof TIMESTEP_SAMPLERS>,
] = [
  DATASET_KINDS,
  BACKEND_PREFERENCES,
  SCHEDULE_NAMES,
  OBJECTIVES,
  VARIANCE_TYPES,
  MEAN_TYPES,
  TIMESTEP_SAMPLERS,
];
void _exhaustive;

/** Type guard: `value` is one of `list`. */
export function isOneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

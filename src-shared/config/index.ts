/**
 * Public API of the run configuration: schema and defaults, presets, validation, and the mapping to the
 * reference implementation's flags and diffusion types. Import from here, not from the files.
 */
export {
  BACKEND_PREFERENCES,
  DATASET_KINDS,
  MEAN_TYPES,
  OBJECTIVES,
  SCHEDULE_NAMES,
  TIMESTEP_SAMPLERS,
  VARIANCE_TYPES,
  isOneOf,
  type BackendPreference,
  type DatasetKind,
} from './enums';
export {
  DEFAULT_RUN_CONFIG,
  RUN_CONFIG_GROUPS,
  cloneRunConfig,
  withDefaults,
  type DatasetConfig,
  type DiffusionConfig,
  type IntervalsConfig,
  type ModelConfig,
  type RunConfig,
  type RunConfigGroup,
  type RunConfigPatch,
  type TrainingConfig,
} from './runConfig';
export {
  GROUP_NORM_GROUPS,
  REFERENCE_IMAGE_SIZES,
  attentionDownsampleFactors,
  attentionLevels,
  effectiveUpsampleHeads,
  levelResolutions,
  modelOutputChannels,
  referenceChannelMult,
} from './geometry';
export {
  REFERENCE_MODEL_AND_DIFFUSION_DEFAULTS,
  REFERENCE_TRAIN_DEFAULTS,
  fromReferenceFlags,
  importReferenceFlags,
  toDiffusionKind,
  toReferenceFlags,
  type DiffusionKind,
  type ExportedReferenceFlags,
  type IgnoredFlag,
  type ImportedReferenceRun,
  type ReferenceFlagInput,
  type ReferenceFlags,
  type ReferenceModelAndDiffusionFlags,
  type ReferenceTrainFlags,
} from './referenceFlags';
export { PRESET_IDS, getPreset, listPresets, type Preset } from './presets';
export { MAX_MEMORY_BYTES, SIZE_LIMITS } from './limits';
export { formatBytes, parameterProblem, trainingMemoryProblem, type MemoryLimit, type SizeProblem } from './memoryCheck';
export {
  DEFAULT_MEMORY_LIMIT,
  assertValidRunConfig,
  formatConfigProblems,
  validateRunConfig,
  type ConfigProblem,
  type ValidateOptions,
} from './validate';
export { intervalWarnings, type IntervalWarning } from './intervalWarnings';

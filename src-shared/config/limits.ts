/**
 * The largest sizes the studio accepts, by field. They exist because a size is also an allocation: an
 * absurd T, batch or width used to be accepted and then exhausted memory in the worker ("memory access out
 * of bounds", "Invalid typed array length", a process past 10 GB). Each bound sits well above anything the
 * paper trains (T 4000, 64 px, C 128–192, batch 128, 3 res blocks) and below where one field alone makes the
 * run impossible; combinations are bounded by the memory estimate (memoryCheck.ts).
 */
export const SIZE_LIMITS = {
  /** diffusion.steps T: the noise-process arrays and the NLL loop are O(T); the paper's largest is 4000. */
  diffusionSteps: 100_000,
  /** model.imageSize in pixels. */
  imageSize: 1024,
  /** model.channels (base width C). */
  channels: 1024,
  /** Each model.channelMult entry. */
  channelMultEntry: 16,
  /** Levels (model.channelMult length): 1024 px halves to 1 px after 10 levels. */
  levels: 11,
  /** model.attentionResolutions entries. */
  attentionResolutions: 11,
  /** model.numResBlocks. */
  numResBlocks: 16,
  /** model.numHeads and model.numHeadsUpsample. */
  numHeads: 64,
  /** training.batchSize. */
  batchSize: 4096,
  /** training.emaRates entries: each one is a full copy of the weights. */
  emaRates: 8,
  /** intervals.previewCount images per preview. */
  previewCount: 256,
  /**
   * Parameters of the UNet: every copy (weights, gradient, two AdamW moments, each EMA) is one Float32Array
   * of this length, and 2^30 floats (4 GiB) is past what a typed array or the wasm heap can hold.
   */
  parameters: 2 ** 30,
  /** Images one sampling job draws (each is kept in memory and written as a PNG). */
  sampleCount: 1024,
  /** Held-out images one evaluation reads. */
  evalImages: 100_000,
} as const;

/**
 * The memory the validator assumes when it is not told the machine's: nothing the studio runs on has more,
 * so a config whose estimate exceeds it is impossible anywhere. Workers check against the real machine.
 */
export const MAX_MEMORY_BYTES = 2 ** 40;

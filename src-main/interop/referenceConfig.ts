/**
 * The run configuration of a reference run from what is known about it: the flags the user gives (the
 * reference's names, script_util.py), what the checkpoint's tensor shapes say (inferArchitecture), and an
 * image size seen elsewhere (a samples_NxHxWx3.npz). Flags win where given, but must agree with the tensors;
 * what neither source knows and has no safe default is asked for by name.
 */
import { importReferenceFlags, REFERENCE_MODEL_AND_DIFFUSION_DEFAULTS, type IgnoredFlag } from '../../src-shared/config/referenceFlags';
import { REFERENCE_IMAGE_SIZES, referenceChannelMult } from '../../src-shared/config/geometry';
import { unetParamCount } from '../../src-shared/config/paramCount';
import type { RunConfig } from '../../src-shared/config/runConfig';
import { validateRunConfig } from '../../src-shared/config/validate';
import type { InferredArchitecture } from './inferArchitecture';

/**
 * Flags with no trace in a checkpoint and a default that would silently change what the model computes:
 * the attention heads (the weights are the same for any head count that divides the width) and the
 * diffusion the network was trained for.
 */
export const FLAGS_NOT_IN_CHECKPOINTS = ['num_heads', 'diffusion_steps', 'noise_schedule'] as const;

export interface ReferenceConfigInput {
  /** The user's flags (values as strings or typed). */
  flags: Readonly<Record<string, unknown>>;
  arch: InferredArchitecture;
  /** An image size seen in the run's files, e.g. from samples_4x8x8x3.npz, and where. */
  imageSizeHint?: { size: number; from: string };
  /** EMA rates of the ema_<rate>_<step>.pt files found, when the flags do not name them. */
  emaRates?: number[];
  /** For messages: the file or folder imported. */
  source: string;
}

export interface ReferenceConfig {
  config: RunConfig;
  /** What the user should know: inferred values, assumed defaults, flags without effect. */
  notes: string[];
}

/** The flags as the import reads them, in the reference's spelling, or an Error naming what to add. */
export function referenceConfig(input: ReferenceConfigInput): ReferenceConfig {
  const { arch, source } = input;
  const given = { ...input.flags };
  const notes: string[] = [];
  const problems: string[] = [];

  if (arch.classCond) problems.push('class_cond: the checkpoint is class-conditional (label_emb), which the studio does not train or sample');
  if (arch.imageChannels !== 3) problems.push(`the checkpoint takes ${arch.imageChannels}-channel images; reference models take RGB`);

  // Flags that the tensors decide: given ones must agree.
  const fromShapes: Record<string, unknown> = {
    num_channels: arch.channels,
    num_res_blocks: arch.numResBlocks,
    learn_sigma: arch.learnSigma,
    use_scale_shift_norm: arch.useScaleShiftNorm,
  };
  for (const [flag, value] of Object.entries(fromShapes)) {
    const v = given[flag];
    if (v !== undefined && String(v).toLowerCase() !== String(value).toLowerCase()) {
      problems.push(`${flag}: the flags say ${String(v)} but the checkpoint's tensors say ${String(value)}`);
    }
    given[flag] = value;
  }

  // The image size: flags, else a file that shows it, else the reference's size for this channel_mult.
  if (given.image_size === undefined) {
    const bySize = REFERENCE_IMAGE_SIZES.find((s) => referenceChannelMult(s)!.join(',') === arch.channelMult.join(','));
    if (input.imageSizeHint) {
      given.image_size = input.imageSizeHint.size;
      notes.push(`image_size ${input.imageSizeHint.size}: from ${input.imageSizeHint.from}`);
    } else if (bySize !== undefined) {
      given.image_size = bySize;
      notes.push(`image_size ${bySize}: the reference's create_model uses channel_mult (${arch.channelMult.join(',')}) only at ${bySize} px`);
    } else {
      problems.push(
        `image_size: a checkpoint does not store it and channel_mult (${arch.channelMult.join(',')}) is not one of the reference's; add --image_size N to the flags`,
      );
    }
  }
  const imageSize = Number(given.image_size);

  // Attention: where the tensors have it, as resolutions in pixels; given flags must land on the same levels.
  if (Number.isFinite(imageSize) && imageSize > 0) {
    const actual = arch.attentionDs.map((ds) => imageSize / ds);
    if (given.attention_resolutions !== undefined) {
      const asked = String(given.attention_resolutions).split(',').map((s) => s.trim()).filter(Boolean).map(Number);
      const askedDs = new Set(asked.map((r) => Math.floor(imageSize / r)));
      const levelsDs = arch.channelMult.map((_, i) => 2 ** i);
      const askedLevels = levelsDs.filter((ds) => askedDs.has(ds));
      if (askedLevels.join(',') !== arch.attentionDs.join(',')) {
        problems.push(
          `attention_resolutions: the flags say ${String(given.attention_resolutions)} but the checkpoint has attention at ${actual.join(',') || 'no level'} px (image_size ${imageSize})`,
        );
      }
    } else {
      given.attention_resolutions = actual.join(',');
      notes.push(`attention_resolutions ${actual.join(',') || '(none)'}: from the checkpoint's attention blocks`);
    }
  }

  const missing = FLAGS_NOT_IN_CHECKPOINTS.filter((f) => given[f] === undefined);
  if (missing.length) {
    problems.push(
      `${missing.join(', ')}: not stored in a checkpoint; give ${missing.length > 1 ? 'them' : 'it'} as the reference run did, ` +
        `e.g. --flags "${missing.map((f) => `--${f} ${String(REFERENCE_MODEL_AND_DIFFUSION_DEFAULTS[f])}`).join(' ')}"`,
    );
  }
  if (given.ema_rate === undefined && input.emaRates?.length) {
    given.ema_rate = input.emaRates.join(',');
    notes.push(`ema_rate ${given.ema_rate}: from the EMA checkpoint files`);
  }
  if (given.data_dir === undefined) {
    notes.push('data_dir not given: the run samples as it is; to evaluate NLL or continue training it needs the images (import again with --data_dir DIR, the reference\'s image folder)');
  }
  if (problems.length) throw new Error(`cannot import ${source}:\n${problems.map((p) => `- ${p}`).join('\n')}`);

  let imported: { config: RunConfig; ignored: IgnoredFlag[] };
  try {
    imported = importReferenceFlags(given, { channelMult: arch.channelMult });
  } catch (e) {
    throw new Error(`cannot import ${source}: ${(e as Error).message}`);
  }
  const { config, ignored } = imported;
  for (const i of ignored) notes.push(`${i.flag} ${JSON.stringify(i.value)}: ${i.reason}`);
  const defaulted = Object.keys(REFERENCE_MODEL_AND_DIFFUSION_DEFAULTS).filter((f) => given[f] === undefined && !['class_cond', 'use_checkpoint', 'timestep_respacing', 'num_heads_upsample', 'dropout'].includes(f));
  if (defaulted.length) notes.push(`reference defaults assumed for ${defaulted.join(', ')} (pass them in --flags if the run used others)`);

  const problemsOfConfig = validateRunConfig(config);
  if (problemsOfConfig.length) {
    throw new Error(`cannot import ${source}: the configuration it implies is not valid:\n${problemsOfConfig.map((p) => `- ${p.field}: ${p.message}`).join('\n')}`);
  }
  // Every shape above came from a few tensors; the count over all of them catches any other difference.
  const expected = unetParamCount(config);
  if (expected !== arch.paramCount) {
    throw new Error(`cannot import ${source}: it holds ${arch.paramCount} parameters, but the UNet these settings describe has ${expected}; check the flags`);
  }
  return { config, notes };
}

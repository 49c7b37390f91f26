/**
 * Skipping the first fraction of the reverse process (the paper's Figure 3: how much sample quality is
 * lost when sampling starts part-way down the chain, from pure noise).
 *
 * Definition used everywhere in the studio (sample job, quality job, their settings): with the model's T
 * steps and a skip fraction f ∈ [0, 1), the reverse process keeps only the original timesteps
 * 0 … T_f − 1 with T_f = ⌊(1 − f)·T⌋, and sampling starts from x ~ N(0, I) at the highest kept step.
 * In the paper's 1-based notation it starts at t = ⌊(1 − f)·T⌋ instead of t = T. A respacing to K steps
 * ("K" sections or "ddimK") is then taken of those T_f steps (space_timesteps(T_f, spec)), so the sampler
 * still makes K network calls; the network is called with the original steps and scaled by the original T
 * (SPEC §7), and β' is rebuilt from the original ᾱ (SPEC §6). f = 0 gives T_f = T: exactly today's sampler.
 * Every visited timestep is < (1 − f)·T.
 */

/** ⌊(1−f)·T⌋ with float noise absorbed: (1 − 0.3)·1000 is 699.99…97 in float64 but means 700. */
export function stepsAfterSkip(numSteps: number, skipFraction: number): number {
  return Math.floor((1 - skipFraction) * numSteps + 1e-9);
}

/** Why `skipFraction` cannot be used with a model of T steps (null when it can), in the user's words. */
export function skipFractionProblem(skipFraction: unknown, numSteps: number): string | null {
  if (typeof skipFraction !== 'number' || !Number.isFinite(skipFraction) || skipFraction < 0 || skipFraction >= 1) {
    return `skipFraction must be a number in [0, 1) (0: the whole reverse process; 0.2: skip its first 20%), got ${JSON.stringify(skipFraction) ?? 'nothing'}`;
  }
  if (stepsAfterSkip(numSteps, skipFraction) < 1) {
    return `skipFraction ${skipFraction} leaves no step of the model's T = ${numSteps}: use a smaller fraction`;
  }
  return null;
}

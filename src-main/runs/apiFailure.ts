/** An error a face turns into an ApiError reply: a code, a message that names the fix, maybe a field. */
import type { ApiError } from '../../src-shared/protocol';
import type { ConfigProblem } from '../../src-shared/config/validate';

export class ApiFailure extends Error {
  constructor(
    readonly code: ApiError['code'],
    message: string,
    readonly extra: { field?: string; problems?: ConfigProblem[] } = {},
  ) {
    super(message);
    this.name = 'ApiFailure';
  }

  toApiError(): ApiError {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

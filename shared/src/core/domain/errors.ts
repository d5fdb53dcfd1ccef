/**
 * One class per domain failure. Each carries the stable `code` clients see in error frames and
 * the HTTP status REST callers get; anything that is not a DomainError is an internal error
 * whose details stay in the logs.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;
}

export class InvalidJsonError extends DomainError {
  override name = 'InvalidJsonError';
  readonly code = 'invalid_json';
  readonly httpStatus = 400;
}

export class UnknownActionError extends DomainError {
  override name = 'UnknownActionError';
  readonly code = 'unknown_action';
  readonly httpStatus = 400;
}

export class ValidationError extends DomainError {
  override name = 'ValidationError';
  readonly code = 'validation_failed';
  readonly httpStatus = 400;
  constructor(
    message: string,
    readonly issues: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

export class PayloadTooLargeError extends DomainError {
  override name = 'PayloadTooLargeError';
  readonly code = 'payload_too_large';
  readonly httpStatus = 413;
}

export class ForbiddenError extends DomainError {
  override name = 'ForbiddenError';
  readonly code = 'forbidden';
  readonly httpStatus = 403;
}

export class IdentityMismatchError extends DomainError {
  override name = 'IdentityMismatchError';
  readonly code = 'identity_mismatch';
  readonly httpStatus = 403;
}

export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  readonly code = 'not_found';
  readonly httpStatus = 404;
}

export class ConflictError extends DomainError {
  override name = 'ConflictError';
  readonly code = 'conflict';
  readonly httpStatus = 409;
}

export class RateLimitedError extends DomainError {
  override name = 'RateLimitedError';
  readonly code = 'rate_limited';
  readonly httpStatus = 429;
}

export class UnauthorizedError extends DomainError {
  override name = 'UnauthorizedError';
  readonly code = 'unauthorized';
  readonly httpStatus = 401;
}

/** A cap that keeps an item or a frame bounded was reached (e.g. reactions on one message). */
export class LimitExceededError extends DomainError {
  override name = 'LimitExceededError';
  readonly code = 'limit_exceeded';
  readonly httpStatus = 409;
}

/** A file type the deployment does not accept (AttachmentAllowedTypes). */
export class UnsupportedTypeError extends DomainError {
  override name = 'UnsupportedTypeError';
  readonly code = 'unsupported_type';
  readonly httpStatus = 415;
}

/** The user's upload allowance for the day (AttachmentQuotaBytesPerDay) would be exceeded. */
export class QuotaExceededError extends DomainError {
  override name = 'QuotaExceededError';
  readonly code = 'quota_exceeded';
  readonly httpStatus = 429;
}

/** An attachment named in a message that was never uploaded (or whose upload expired). */
export class NotUploadedError extends DomainError {
  override name = 'NotUploadedError';
  readonly code = 'not_uploaded';
  readonly httpStatus = 409;
}

/** The moderation hook refused the message; `message` is the hook's reason, shown to the sender. */
export class MessageRejectedError extends DomainError {
  override name = 'MessageRejectedError';
  readonly code = 'message_rejected';
  readonly httpStatus = 422;
}

/** The moderation hook failed (error, timeout, bad answer) and the fail mode is `closed`. */
export class ModerationUnavailableError extends DomainError {
  override name = 'ModerationUnavailableError';
  readonly code = 'moderation_unavailable';
  readonly httpStatus = 503;
}

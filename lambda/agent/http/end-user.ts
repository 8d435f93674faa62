/**
 * End users behind a backend: a backend that signs every request with one
 * role may name the end user it acts for in `x-agent-end-user`, when it was
 * granted so (`AgentRuntime.grantInvokeOnBehalfOfUsers`, which lists its
 * role in the runtime's `onBehalfCallers`). The owner is then the pair of
 * the caller and the end user, so one end user never reaches another's
 * conversations through the same backend.
 *
 * API Gateway's IAM authorization cannot see headers: the grant is checked
 * here, against the caller's identity that API Gateway established from the
 * signature, so it cannot be forged by a header. Anyone else naming an end
 * user is refused (403), never silently served as themselves: a backend
 * that believes it isolates its users must learn at once that it does not.
 */
import { HttpError } from './http-error';
import { endUserOwner, ownerIdOfGrantee, ownerOf, type Caller, type Owner } from './identity';
import type { AgentHttpRequest } from './types';

export const END_USER_HEADER = 'x-agent-end-user';

/** An opaque id of the backend's choosing: a UUID, a user name, an email address; no `#` (it separates the pair). */
export const END_USER_PATTERN = /^[A-Za-z0-9._@:+=-]{1,128}$/;

export class EndUsers {
  /** Owner ids (roles reduced as ownerOf does) of the callers allowed to act for end users. */
  private readonly allowed: ReadonlySet<string>;

  constructor(onBehalfCallers: readonly string[]) {
    this.allowed = new Set(onBehalfCallers.map(ownerIdOfGrantee));
  }

  /** The request's owner: its caller, or the caller and the end user it names; 401 without identity, 400/403 for a refused header. */
  ownerOf(request: AgentHttpRequest): Owner {
    const owner = ownerOf(request.caller);
    if (!owner) throw new HttpError(401, 'unauthenticated', 'the request carries no authenticated identity');
    const endUser = request.headers[END_USER_HEADER];
    if (endUser === undefined) return owner;
    if (!END_USER_PATTERN.test(endUser)) {
      throw new HttpError(400, 'invalid_end_user', `${END_USER_HEADER} must be 1-128 characters of A-Z a-z 0-9 . _ @ : + = - (an opaque id of the end user)`);
    }
    if (!this.mayActForEndUsers(request.caller!, owner)) {
      throw new HttpError(
        403,
        'end_user_not_allowed',
        `this caller may not act for end users: ${END_USER_HEADER} needs the runtime's on-behalf grant (grantInvokeOnBehalfOfUsers)`,
      );
    }
    return endUserOwner(owner, endUser);
  }

  /** Only IAM roles and users granted so: Cognito users are end users themselves. */
  private mayActForEndUsers(caller: Caller, owner: Owner): boolean {
    if (caller.userPoolSub !== undefined || caller.cognitoIdentityId !== undefined) return false;
    return this.allowed.has(owner.id);
  }
}

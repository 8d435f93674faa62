/**
 * Who owns a conversation: one function turns a request's authenticated
 * caller into the owner its conversations are stored under.
 *
 * - A Cognito user pool user: its `sub`.
 * - Cognito identity pool credentials (IAM authorization): the identity id,
 *   one per user. Never the role: every user of the pool assumes the same one.
 * - An assumed role (ECS tasks, EC2 instances, Lambda functions, SSO): the
 *   role, without the session name, which changes per task, instance or
 *   session while the application stays the same:
 *   `arn:aws:sts::123456789012:assumed-role/app/i-0abc` becomes
 *   `arn:aws:sts::123456789012:assumed-role/app`.
 * - Any other IAM principal (users, federated users, root): its ARN.
 *
 * Conversations stored before roles were reduced name the full session
 * ARN; that exact session may still reach them (`aliases`).
 *
 * A backend granted so (see end-user.ts) may act for one of its end users;
 * the owner is then the pair `<caller>#user:<end user>`. No caller id
 * contains `#` (IAM names, session names, Cognito ids and subs cannot), so
 * a pair never equals a plain caller's id, nor another pair.
 */

/** The authenticated identity of a request, as the API's authorizer established it. */
export interface Caller {
  /** The IAM principal's ARN (IAM authorization). */
  arn?: string;
  /** The Cognito identity id, when the IAM credentials came from an identity pool. */
  cognitoIdentityId?: string;
  /** The `sub` claim of a Cognito user pool token. */
  userPoolSub?: string;
}

export interface Owner {
  /** What new conversations are stored under. */
  id: string;
  /** Earlier forms of the same identity that also own conversations. */
  aliases: string[];
  /** The caller's full identity, for logs. */
  caller: string;
  /** The end user a granted backend acts for (`x-agent-end-user`); the id is then the caller's paired with it. */
  endUser?: string;
  /** The caller's own owner id, when it acts for an end user. */
  callerId?: string;
}

/** The owner a granted caller acting for an end user stores conversations under. */
export function endUserOwner(owner: Owner, endUser: string): Owner {
  return { id: `${owner.id}#user:${endUser}`, aliases: [], caller: owner.caller, endUser, callerId: owner.id };
}

/**
 * The owner id an IAM identity's requests carry, from the ARN a grant names:
 * a role's requests come from its sessions, which ownerOf reduces to
 * `arn:<partition>:sts::<account>:assumed-role/<name>` (a session ARN has no
 * role path; role names are unique in an account). A user's is its ARN.
 */
export function ownerIdOfGrantee(arn: string): string {
  const role = /^arn:([a-z-]+):iam::(\d{12}):role\/(?:[!-~]*\/)?([^/]+)$/.exec(arn);
  return role ? `arn:${role[1]}:sts::${role[2]}:assumed-role/${role[3]}` : arn;
}

const ASSUMED_ROLE_ARN = /^(arn:[a-z-]+:sts::\d{12}:assumed-role\/[^/]+)\/.+$/;

/** The owner a caller's conversations belong to, or undefined when the request carries no identity. */
export function ownerOf(caller: Caller | undefined): Owner | undefined {
  if (caller?.userPoolSub) return { id: caller.userPoolSub, aliases: [], caller: caller.userPoolSub };
  if (caller?.cognitoIdentityId) return { id: `cognito-identity:${caller.cognitoIdentityId}`, aliases: [], caller: caller.arn ?? caller.cognitoIdentityId };
  if (!caller?.arn) return undefined;
  const role = ASSUMED_ROLE_ARN.exec(caller.arn)?.[1];
  return role ? { id: role, aliases: [caller.arn], caller: caller.arn } : { id: caller.arn, aliases: [], caller: caller.arn };
}

/** Whether the owner recorded on a conversation is this caller. */
export function owns(owner: Owner, recordedOwner: string): boolean {
  return recordedOwner === owner.id || owner.aliases.includes(recordedOwner);
}

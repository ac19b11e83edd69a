// Delete of any resource: in one transaction, load the row locked (NOT_FOUND), check the caller's expected
// revision (ABORTED), run the resource's own checks and DELETE statements, then announce the deletion on
// config.changes.v1 with the revision after the stored one.
import { ChangeAction, type ResourceKind } from '@smshub/contracts';
import type { PoolClient } from '@smshub/db';
import { tx, type AdminContext } from '../context.js';
import { checkRevision, notFound } from '../errors.js';
import { expectedRevision } from '../validate.js';

export interface DeleteSpec {
  kind: ResourceKind;
  /** The resource in messages ("routing rule") and its error-mapping name ("routing_rule"). */
  what: string;
  txName: string;
  /** The key as stored (normalised) and as the caller gave it (for NOT_FOUND). */
  id: string;
  givenId?: string;
  expectedRevision: bigint | number | undefined;
  load(c: PoolClient, id: string, lock: boolean): Promise<{ revision: string | number | bigint } | undefined>;
  /** Precondition checks (FAILED_PRECONDITION) and the DELETE statements. */
  remove(c: PoolClient): Promise<unknown>;
}

export async function deleteResource(ctx: AdminContext, spec: DeleteSpec): Promise<Record<string, never>> {
  const expected = expectedRevision(spec.expectedRevision);
  const revision = await tx(ctx, spec.txName, async (c) => {
    const stored = await spec.load(c, spec.id, true);
    if (!stored) throw notFound(spec.what, spec.givenId ?? spec.id);
    const rev = BigInt(stored.revision);
    checkRevision(spec.what, spec.id, expected, rev);
    await spec.remove(c);
    return rev + 1n;
  });
  await ctx.publisher.change({
    kind: spec.kind,
    action: ChangeAction.CHANGE_ACTION_DELETED,
    resourceId: spec.id,
    revision,
  });
  return {};
}

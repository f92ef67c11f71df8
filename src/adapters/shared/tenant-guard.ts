import { AppError, ErrorCode } from "../../domain/errors.js";

/**
 * Rejects a write whose records belong to another tenant than the one named: a programming error,
 * never user input, so it is INTERNAL_SERVER_ERROR (and masked at the edge).
 */
export const assertTenant = (tenantId: string, items: readonly { readonly tenantId: string }[]): void => {
  const foreign = items.find((i) => i.tenantId !== tenantId);
  if (foreign !== undefined) {
    throw new AppError(
      ErrorCode.Internal,
      "A record of another tenant was passed to a tenant-scoped write.",
      {
        details: { tenantId, recordTenantId: foreign.tenantId },
      },
    );
  }
};

/**
 * A document key unique per (tenant, id) whatever characters either holds: JSON of the pair, so
 * ("a:b", "c") and ("a", "b:c") never collide.
 */
export const tenantKey = (tenantId: string, id: string): string => JSON.stringify([tenantId, id]);

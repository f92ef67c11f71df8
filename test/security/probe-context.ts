import type { FormattedExecutionResult } from "graphql";

/**
 * What isolation probes get from the tenant-isolation suite: a GraphQL call with a tenant's key, and
 * the two tenants' keys (read lazily: keys exist only after setup).
 */
export interface TenantProbeContext {
  gql(
    key: string,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<FormattedExecutionResult<Record<string, unknown>>>;
  key(tenant: "a" | "b"): string;
}

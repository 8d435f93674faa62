/**
 * `agentctl status`: per jurisdiction, each region's health as Route 53's
 * checkers see it, whether it is drained, whether Route 53 sends it traffic,
 * and the last drain or restore. `--json` prints the same for scripts.
 */
import { type Fleet, type JurisdictionView, type RegionState, jurisdictionViews, receivesTraffic } from './fleet';
import { formatLastChange } from './last-change';
import { renderTable } from './output';

/** Things about a region that an operator must not miss. */
export function regionNotes(region: RegionState): string[] {
  const notes: string[] = [];
  if (region.drained !== 'no' && region.endpoint.state === 'unhealthy') {
    notes.push(
      `${region.region} is drained but its endpoint is failing: an inverted health check of a failing endpoint reports healthy, ` +
        `so Route 53 sends it traffic. Restore it (agentctl restore ${region.region}) to keep traffic away until it recovers.`,
    );
  }
  if (region.drained === 'partly') {
    notes.push(`${region.region} is only partly drained; run drain again to finish, or restore to undo.`);
  }
  for (const check of region.routingChecks) {
    if (check.node.disabled) {
      notes.push(`Health check ${check.node.id} of ${region.region} is disabled: Route 53 treats it as healthy whatever the endpoint does.`);
    }
  }
  if (region.route53 === 'unknown') notes.push(`Route 53's view of ${region.region} is unknown (${region.endpoint.basis}).`);
  return notes;
}

export function jurisdictionNotes(view: JurisdictionView): string[] {
  if (!view.failOpen) return [];
  return [`Every ${view.jurisdiction} region is unhealthy to Route 53, so it fails open and answers with all of them, drained ones included.`];
}

function yesNo(value: boolean | undefined): string {
  return value === undefined ? '?' : value ? 'yes' : 'no';
}

export function renderStatus(fleet: Fleet): string {
  const sections = jurisdictionViews(fleet.regions).map((view) => {
    const rows = view.regions.map((region) => [
      region.region,
      `${region.endpoint.state} (${region.endpoint.basis})`,
      region.drained,
      yesNo(receivesTraffic(region, view)),
      region.lastChange ? formatLastChange(region.lastChange) : '-',
    ]);
    const notes = [...jurisdictionNotes(view), ...view.regions.flatMap(regionNotes)].map((note) => `! ${note}`);
    return [
      `Agent ${view.agent}, jurisdiction ${view.jurisdiction}`,
      renderTable(['REGION', 'ENDPOINT', 'DRAINED', 'TRAFFIC', 'LAST CHANGE'], rows),
      ...notes,
    ].join('\n');
  });
  const warnings = fleet.warnings.map((warning) => `! ${warning}`);
  return `${[...sections, ...warnings].join('\n\n')}\n`;
}

export function statusJson(fleet: Fleet, now: Date): string {
  const regions = jurisdictionViews(fleet.regions).flatMap((view) =>
    view.regions.map((region) => ({
      agent: region.agent,
      jurisdiction: region.jurisdiction,
      region: region.region,
      endpoint: {
        state: region.endpoint.state,
        basis: region.endpoint.basis,
        lastCheckedAt: region.endpoint.lastCheckedAt?.toISOString() ?? null,
      },
      route53: region.route53,
      drained: region.drained,
      receivesTraffic: receivesTraffic(region, view) ?? null,
      lastChange: region.lastChange ? { ...region.lastChange, at: region.lastChange.at.toISOString() } : null,
      healthChecks: region.routingChecks.map(({ node }) => ({
        id: node.id,
        type: node.type,
        target: node.target,
        version: node.version,
        inverted: node.inverted,
        disabled: node.disabled,
      })),
      notes: [...jurisdictionNotes(view), ...regionNotes(region)],
    })),
  );
  return `${JSON.stringify({ generatedAt: now.toISOString(), regions, warnings: fleet.warnings }, null, 2)}\n`;
}

/**
 * The residency guard: a last check, at call time, that a target keeps the
 * request's data inside its jurisdiction, whatever the configuration says.
 */
import { inferenceGeographyOf, type ChainTarget, type JurisdictionConfig } from '../config';

/** Why the target may not be called from this jurisdiction, or undefined when it may. */
export function residencyViolation(target: ChainTarget, jurisdiction: JurisdictionConfig): string | undefined {
  if (!jurisdiction.regions.includes(target.region)) {
    return `endpoint region ${target.region} is outside jurisdiction ${jurisdiction.name} (${jurisdiction.regions.join(', ')})`;
  }
  if (!jurisdiction.restricted) return undefined;
  const { provider } = target;
  if (provider) {
    // An outside provider is called from this region but processes where its residency option says.
    if (provider.residency === jurisdiction.geography) return undefined;
    return `${provider.name} ${target.modelId} processes data in ${provider.residency === 'global' ? 'any region of the world' : provider.residency}, outside restricted jurisdiction ${jurisdiction.name} (${jurisdiction.geography})`;
  }
  const geography = inferenceGeographyOf(target.modelId);
  if (geography === 'global') {
    return `global inference profile ${target.modelId} may route outside restricted jurisdiction ${jurisdiction.name}`;
  }
  if (geography !== undefined && geography !== jurisdiction.geography) {
    return `inference profile ${target.modelId} routes within ${geography}, not ${jurisdiction.geography}`;
  }
  return undefined;
}

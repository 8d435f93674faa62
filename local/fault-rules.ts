/**
 * The injected faults of an emulator: rules tried in the order they were
 * added, each permanent until cleared or limited to its next `times`
 * matching calls.
 */
export class FaultRules<Rule extends { times?: number }> {
  private rules: Rule[] = [];

  add(rule: Rule): void {
    if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1)) {
      throw new Error(`fault times must be a positive integer, got ${rule.times}`);
    }
    // A copy, so that counting down its times leaves the caller's object alone.
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule matching a call, counted as used by it. */
  take(matches: (rule: Rule) => boolean): Rule | undefined {
    const rule = this.rules.find(matches);
    if (rule?.times !== undefined && --rule.times === 0) this.rules.splice(this.rules.indexOf(rule), 1);
    return rule;
  }
}

/**
 * The injected faults of an emulator: rules tried in the order they were
 * added, each permanent until cleared or limited to its next `times`
 * matching calls. A rule with `every: N` fires on exactly one call in each
 * run of N calls that reach it, at a random place in the run: a share that
 * is exact over any N calls (stratified), where a probability drawn per call
 * makes the share itself vary from run to run.
 */
export class FaultRules<Rule extends { times?: number; every?: number }> {
  private rules: Rule[] = [];
  /** Per rule with `every`: the calls of its current run seen so far, and the one of them that fires. */
  private readonly runs = new Map<Rule, { seen: number; firesAt: number }>();

  add(rule: Rule): void {
    for (const field of ['times', 'every'] as const) {
      const value = rule[field];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new Error(`fault ${field} must be a positive integer, got ${value}`);
    }
    // A copy, so that counting down its times leaves the caller's object alone.
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
    this.runs.clear();
  }

  /** The first rule matching a call (and whose turn it is, for `every`), counted as used by it. */
  take(matches: (rule: Rule) => boolean): Rule | undefined {
    const rule = this.rules.find((candidate) => matches(candidate) && this.firesInItsRun(candidate));
    if (rule?.times !== undefined && --rule.times === 0) {
      this.rules.splice(this.rules.indexOf(rule), 1);
      this.runs.delete(rule);
    }
    return rule;
  }

  /** Counts the call in the rule's run of `every`; true for the one call of the run drawn to fire (always, without `every`). */
  private firesInItsRun(rule: Rule): boolean {
    if (rule.every === undefined) return true;
    const run = this.runs.get(rule) ?? { seen: 0, firesAt: 0 };
    if (run.seen === 0) run.firesAt = Math.floor(Math.random() * rule.every);
    const fires = run.seen === run.firesAt;
    run.seen = (run.seen + 1) % rule.every;
    this.runs.set(rule, run);
    return fires;
  }
}

import { defineConfig } from 'vitest/config';

export default defineConfig({
  // A message runs a whole tool loop through the local deployment: give it more than vitest's 5 s on a busy machine.
  test: { testTimeout: 60_000 },
});

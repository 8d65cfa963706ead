import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests spawn real processes and open real sockets; a loaded 2-core CI box needs room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
})

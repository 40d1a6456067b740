// jest global teardown of the integration project: stops the shared cluster the global setup started.
export default async function globalTeardown() {
  const cluster = globalThis.__podfenceTestCluster;
  if (cluster) {
    await cluster.stop();
    delete globalThis.__podfenceTestCluster;
  }
}

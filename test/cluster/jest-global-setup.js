// Placeholder until the control-plane harness lands (issue 4): it starts/stops the shared test cluster.
export default async function () {}

// The podfence release, in one place (package.json and the chart's appVersion carry the same; a unit test holds
// them equal).
export const PODFENCE_VERSION = '0.1.0';

// Replaced by the testing package's PostgreSQL global setup.
export default async function setup(): Promise<void> {}

export type { SimulatedContext } from './context.js'
export type { SimulateLambdaOptions } from './options.js'
export { simulateLambda } from './simulation.js'
export type { EnvironmentInfo, ExitStatus, Invocation, Simulation } from './types.js'

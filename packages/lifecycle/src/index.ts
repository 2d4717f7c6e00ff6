export { configureShutdown, onShutdown, type ShutdownHandler, type ShutdownOptions } from './shutdown.js'

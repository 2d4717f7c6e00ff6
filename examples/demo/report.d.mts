import type { DemoSummary, DemoTimeline } from './demo.mjs'

export declare function renderReport(summary: DemoSummary, timeline: DemoTimeline): string

import type { UserConfig } from 'tsdown'
export declare function eskitConfig(overrides?: UserConfig): UserConfig

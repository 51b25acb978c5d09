// The Pulumi program. Reads stack config, builds the components and exports outputs (filled in by the infra issues).
export {};

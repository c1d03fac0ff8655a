export const ROLES = ['admin', 'researcher', 'coordinator', 'viewer', 'doctor', 'patient', 'caregiver'] as const;
export type Role = (typeof ROLES)[number];

/** The roles of the research portal; the clinical roles (doctor, patient, caregiver) live beside them. */
export const PORTAL_ROLES: Role[] = ['admin', 'researcher', 'coordinator', 'viewer'];

export const SUBSCRIPTION_STATUSES = ['none', 'active', 'canceled', 'expired'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

import { Role } from '../common/roles';

/**
 * The roles a link signs in (API.md 1.2). Every other role has a password, and a link would let whoever
 * reads that mailbox in without it: an admin's mailbox would be an admin account. Checked when a link
 * is sent and again when it is used, so a link mailed before a role change (or before the account was
 * disabled) opens nothing.
 */
export const MAGIC_LINK_ROLES: readonly Role[] = ['patient', 'caregiver'];

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes of the subscription workflows; registered on every Temporal server we start. */
export const customerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const planCodeKey = defineSearchAttributeKey('PlanCode', SearchAttributeType.KEYWORD);
export const subscriptionStatusKey = defineSearchAttributeKey(
  'SubscriptionStatus',
  SearchAttributeType.KEYWORD,
);

export const customSearchAttributes = [customerIdKey, planCodeKey, subscriptionStatusKey];

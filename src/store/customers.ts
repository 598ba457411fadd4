import { randomUUID } from 'node:crypto';
import type { Db, Filter } from 'mongodb';
import type { Country } from '../contracts/lago/country';
import type { Currency } from '../contracts/lago/currency';
import type {
  ACCOUNT_TYPES,
  CUSTOMER_TYPES,
  CustomerInput,
  CustomerMetadataInput,
  FINALIZE_ZERO_AMOUNT_INVOICE,
  ISSUING_DATE_ADJUSTMENTS,
  ISSUING_DATE_ANCHORS,
  PAYMENT_PROVIDERS,
} from '../contracts/lago/customer';
import { LIVE } from './billable-metrics';
import { isDuplicateKey } from './database';
import { claimKey, pointKey, readKey, readKeyDoc, releaseKey } from './keys';
import { addListEntries, readItems, readListPage, removeListEntries, type ListEntry } from './list-entries';
import { organizations } from './organizations';
import { nextSequence, sequenceTop } from './sequences';

export interface CustomerBillingConfiguration {
  /** Days invoices stay draft after a period ends; null: the organization default (0). */
  invoice_grace_period: number | null;
  payment_provider: (typeof PAYMENT_PROVIDERS)[number] | null;
  payment_provider_code: string | null;
  provider_customer_id: string | null;
  document_locale: string | null;
  subscription_invoice_issuing_date_anchor: (typeof ISSUING_DATE_ANCHORS)[number] | null;
  subscription_invoice_issuing_date_adjustment: (typeof ISSUING_DATE_ADJUSTMENTS)[number] | null;
}

export interface CustomerAddress {
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  zipcode: string | null;
  state: string | null;
  country: Country | null;
}

/** One entry of a customer's `metadata` (kept in `metadata_json`). */
export interface CustomerMetadataEntry {
  lago_id: string;
  key: string;
  value: string;
  display_in_invoice: boolean;
  created_at: string; // ISO-8601
}

/**
 * A customer (Lago `customers`), keyed by (organization_id, external_id) among live customers.
 * Soft-deleted like billable metrics (see `deletion_key`): the external id can then be reused by a
 * new customer with a new lago_id.
 */
export interface CustomerDoc {
  _id: string; // lago_id
  organization_id: string;
  external_id: string;
  billing_entity_code: string;
  account_type: (typeof ACCOUNT_TYPES)[number];
  name: string | null;
  firstname: string | null;
  lastname: string | null;
  customer_type: (typeof CUSTOMER_TYPES)[number] | null;
  /** Per-organization counter, from 1. */
  sequential_id: number;
  slug: string;
  email: string | null;
  currency: Currency | null;
  /** IANA name valid for Intl, or null: then `applicableTimezone` is UTC. */
  timezone: string | null;
  country: Country | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  zipcode: string | null;
  phone: string | null;
  url: string | null;
  logo_url: string | null;
  legal_name: string | null;
  legal_number: string | null;
  tax_identification_number: string | null;
  net_payment_term: number | null;
  external_salesforce_id: string | null;
  finalize_zero_amount_invoice: (typeof FINALIZE_ZERO_AMOUNT_INVOICE)[number];
  billing_configuration: CustomerBillingConfiguration;
  shipping_address: CustomerAddress;
  skip_invoice_custom_sections: boolean;
  /** `CustomerMetadataEntry[]` as JSON text: customer-supplied strings are stored as they came. */
  metadata_json: string;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  deletion_key: string;
}

export function customers(db: Db) {
  return db.collection<CustomerDoc>('customers');
}

export async function ensureCustomerIndexes(db: Db): Promise<void> {
  await customers(db).createIndex(
    { organization_id: 1, external_id: 1, deletion_key: 1 },
    { unique: true, name: 'unique_live_external_id' },
  );
  await customers(db).createIndex({ organization_id: 1, deletion_key: 1, created_at: -1 });
}

/** Lago `Customer#applicable_timezone` (the billing entity's zone is UTC here). */
export function applicableTimezone(customer: Pick<CustomerDoc, 'timezone'>): string {
  return customer.timezone ?? 'UTC';
}

export function customerMetadataOf(customer: Pick<CustomerDoc, 'metadata_json'>): CustomerMetadataEntry[] {
  const value: unknown = JSON.parse(customer.metadata_json);
  return Array.isArray(value) ? (value as CustomerMetadataEntry[]) : [];
}

/**
 * The live customer with this external id, or null: the key document, then the customer, both by
 * `_id` (docs/scaling.md). A key naming a soft-deleted or not yet inserted customer reads as none.
 * `keyTarget`: the key, when the caller read it already (`readKeys`).
 */
export async function findCustomer(
  db: Db,
  organizationId: string,
  externalId: string,
  keyTarget?: string | null,
): Promise<CustomerDoc | null> {
  const id = keyTarget === undefined ? await readKey(db, 'customer', organizationId, externalId) : keyTarget;
  if (!id) return null;
  const doc = await customers(db).findOne({ _id: id });
  return doc?.organization_id === organizationId &&
    doc.external_id === externalId &&
    doc.deletion_key === LIVE
    ? doc
    : null;
}

/**
 * The indexed query by natural key, used only to repair a key that does not name the live customer
 * (data from before key documents, once the migration was interrupted; a lost race).
 */
async function findLiveCustomerByQuery(
  db: Db,
  organizationId: string,
  externalId: string,
): Promise<CustomerDoc | null> {
  return customers(db).findOne({
    organization_id: organizationId,
    external_id: externalId,
    deletion_key: LIVE,
  });
}

/** Plain fields copied as sent (a key absent from the input is left unchanged). */
const PLAIN_FIELDS = [
  'name',
  'firstname',
  'lastname',
  'customer_type',
  'email',
  'currency',
  'timezone',
  'country',
  'address_line1',
  'address_line2',
  'city',
  'state',
  'zipcode',
  'phone',
  'url',
  'logo_url',
  'legal_name',
  'legal_number',
  'tax_identification_number',
  'net_payment_term',
  'external_salesforce_id',
] as const satisfies readonly (keyof CustomerInput & keyof CustomerDoc)[];

const BILLING_FIELDS = [
  'invoice_grace_period',
  'payment_provider',
  'payment_provider_code',
  'provider_customer_id',
  'document_locale',
  'subscription_invoice_issuing_date_anchor',
  'subscription_invoice_issuing_date_adjustment',
] as const satisfies readonly (keyof CustomerBillingConfiguration)[];

const ADDRESS_FIELDS = [
  'address_line1',
  'address_line2',
  'city',
  'zipcode',
  'state',
  'country',
] as const satisfies readonly (keyof CustomerAddress)[];

/**
 * The `$set` an input makes on a customer: only the keys present in the input (Lago's upsert
 * updates what it is sent). Nested objects are set field by field.
 */
function changesOf(input: CustomerInput, existing: CustomerDoc | null, now: Date): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  for (const key of PLAIN_FIELDS) {
    if (input[key] !== undefined) set[key] = input[key];
  }
  if (input.account_type !== undefined) set.account_type = input.account_type;
  if (input.finalize_zero_amount_invoice !== undefined) {
    set.finalize_zero_amount_invoice = input.finalize_zero_amount_invoice ?? 'inherit';
  }
  if (input.skip_invoice_custom_sections !== undefined) {
    set.skip_invoice_custom_sections = input.skip_invoice_custom_sections ?? false;
  }
  const billing = input.billing_configuration;
  if (billing) {
    for (const key of BILLING_FIELDS) {
      if (billing[key] !== undefined) set[`billing_configuration.${key}`] = billing[key];
    }
  }
  const shipping = input.shipping_address;
  if (shipping) {
    for (const key of ADDRESS_FIELDS) {
      if (shipping[key] !== undefined) set[`shipping_address.${key}`] = shipping[key];
    }
  }
  if (input.metadata) {
    const previous = existing ? customerMetadataOf(existing) : [];
    set.metadata_json = JSON.stringify(nextMetadata(previous, input.metadata, now));
  }
  return set;
}

/**
 * The metadata list replaces the previous one; an entry whose `id` names an existing entry keeps
 * its lago_id and created_at (Lago `Customers::Metadata::UpdateService`).
 */
function nextMetadata(
  previous: readonly CustomerMetadataEntry[],
  input: readonly CustomerMetadataInput[],
  now: Date,
): CustomerMetadataEntry[] {
  const byId = new Map(previous.map((entry) => [entry.lago_id, entry]));
  return input.map((item) => {
    const kept = item.id ? byId.get(item.id) : undefined;
    return {
      lago_id: kept?.lago_id ?? randomUUID(),
      key: item.key,
      value: item.value,
      display_in_invoice: item.display_in_invoice ?? false,
      created_at: kept?.created_at ?? now.toISOString(),
    };
  });
}

/** Lago's organization `document_number_prefix`: first 3 letters of the name and last 4 of the id. */
export function documentNumberPrefix(organization: { _id: string; name: string }): string {
  return `${organization.name.slice(0, 3).toUpperCase()}-${organization._id.slice(-4).toUpperCase()}`;
}

async function newCustomer(
  db: Db,
  organizationId: string,
  id: string,
  input: CustomerInput,
  now: Date,
): Promise<CustomerDoc> {
  const organization = await organizations(db).findOne({ _id: organizationId });
  const sequentialId = await nextSequence(db, createdSequence(organizationId));
  const prefix = documentNumberPrefix(organization ?? { _id: organizationId, name: 'org' });
  const doc: CustomerDoc = {
    _id: id,
    organization_id: organizationId,
    external_id: input.external_id,
    billing_entity_code: 'default',
    account_type: 'customer',
    name: null,
    firstname: null,
    lastname: null,
    customer_type: null,
    sequential_id: sequentialId,
    slug: `${prefix}-${String(sequentialId).padStart(3, '0')}`,
    email: null,
    currency: null,
    timezone: null,
    country: null,
    address_line1: null,
    address_line2: null,
    city: null,
    state: null,
    zipcode: null,
    phone: null,
    url: null,
    logo_url: null,
    legal_name: null,
    legal_number: null,
    tax_identification_number: null,
    net_payment_term: null,
    external_salesforce_id: null,
    finalize_zero_amount_invoice: 'inherit',
    billing_configuration: {
      invoice_grace_period: null,
      payment_provider: null,
      payment_provider_code: null,
      provider_customer_id: null,
      document_locale: null,
      subscription_invoice_issuing_date_anchor: null,
      subscription_invoice_issuing_date_adjustment: null,
    },
    shipping_address: {
      address_line1: null,
      address_line2: null,
      city: null,
      zipcode: null,
      state: null,
      country: null,
    },
    skip_invoice_custom_sections: false,
    metadata_json: '[]',
    created_at: now,
    updated_at: now,
    deleted_at: null,
    deletion_key: LIVE,
  };
  for (const [path, value] of Object.entries(changesOf(input, null, now))) {
    const [head, inner] = path.split('.') as [string, string | undefined];
    const target = doc as unknown as Record<string, unknown>;
    if (inner === undefined) target[head] = value;
    else (target[head] as Record<string, unknown>)[inner] = value;
  }
  return doc;
}

/** Rounds of `upsertCustomer` (each waits at most 20 ms) before it gives up. */
const MAX_ATTEMPTS = 200;
/** How long a claimed key may wait for its customer before another call creates it (a crash). */
const CLAIM_PATIENCE_MS = 2_000;

const customerListEntry = (c: Pick<CustomerDoc, '_id' | 'organization_id' | 'created_at'>): ListEntry => ({
  list: 'customers',
  scope: [c.organization_id],
  createdAt: c.created_at,
  itemId: c._id,
});

/** Sequence names whose tops count an organization's customers: created and soft-deleted. */
const createdSequence = (organizationId: string) => `customer:${organizationId}`;
const deletedSequence = (organizationId: string) => `customer-deleted:${organizationId}`;

/**
 * Lago's `POST /customers`: creates the customer when no live one has this external id, otherwise
 * updates the keys present in `input` (same lago_id). Safe under concurrent calls: the key document
 * is claimed by an insert and the customer is inserted under the key's target id, so a lost race
 * turns into an update and a crash between the two writes leaves a key the next call completes.
 * Also used by subscription creation, which creates missing customers.
 */
export async function upsertCustomer(
  db: Db,
  organizationId: string,
  input: CustomerInput,
): Promise<{ customer: CustomerDoc; created: boolean }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const now = new Date();
    const key = await readKeyDoc(db, 'customer', organizationId, input.external_id);
    let targetId = key?.target_id ?? null;
    if (key && targetId) {
      const existing = await customers(db).findOne({ _id: targetId });
      if (existing?.deletion_key === LIVE) {
        const updated = await customers(db).findOneAndUpdate(
          { _id: existing._id, organization_id: organizationId, deletion_key: LIVE },
          { $set: { ...changesOf(input, existing, now), updated_at: now } },
          { returnDocument: 'after' },
        );
        if (!updated) continue; // deleted meanwhile: create a new one
        // Completes a create that crashed before listing its customer (a no-op otherwise).
        await addListEntries(db, [customerListEntry(updated)]);
        return { customer: updated, created: false };
      }
      if (existing) {
        // Soft-deleted and its key not yet released (a crash inside softDeleteCustomer).
        await releaseKey(db, 'customer', organizationId, input.external_id, targetId);
        continue;
      }
      // Claimed but not inserted yet. A concurrent create is about to insert it: wait for it, so
      // only one sequential id is taken (the count of customers is read from that sequence). A key
      // left by a create that crashed is completed here.
      if (now.getTime() - key.created_at.getTime() < CLAIM_PATIENCE_MS && attempt < MAX_ATTEMPTS - 1) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
    } else {
      const mine = randomUUID();
      targetId = await claimKey(db, 'customer', organizationId, input.external_id, mine);
      if (targetId !== mine) continue; // claimed concurrently: look at that customer
    }
    const doc = await newCustomer(db, organizationId, targetId, input, now);
    try {
      await customers(db).insertOne(doc);
      await addListEntries(db, [customerListEntry(doc)]);
      return { customer: doc, created: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Inserted concurrently under the same id (the next round updates it), or a live customer the
      // key does not name holds the unique (organization, external_id): point the key at it.
      if (!(await customers(db).findOne({ _id: targetId }))) {
        const live = await findLiveCustomerByQuery(db, organizationId, input.external_id);
        if (live) await pointKey(db, 'customer', organizationId, input.external_id, live._id);
      }
    }
  }
  throw new Error(`customer ${input.external_id}: upsert kept conflicting with concurrent writes`);
}

export interface CustomerListFilter {
  external_id?: string;
  currencies?: string[];
  countries?: string[];
  account_types?: string[];
  customer_types?: string[];
  /** Case-insensitive substring of name, firstname, lastname, legal_name, external_id or email. */
  search_term?: string;
}

const escapeRegex = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function listCustomers(
  db: Db,
  organizationId: string,
  filter: CustomerListFilter,
  page: { skip: number; limit: number },
): Promise<{ items: CustomerDoc[]; totalCount: number }> {
  const query: Filter<CustomerDoc> = { organization_id: organizationId, deletion_key: LIVE };
  if (filter.external_id !== undefined) query.external_id = filter.external_id;
  if (filter.currencies?.length) query.currency = { $in: filter.currencies as Currency[] };
  if (filter.countries?.length) query.country = { $in: filter.countries as Country[] };
  if (filter.account_types?.length)
    query.account_type = { $in: filter.account_types as CustomerDoc['account_type'][] };
  if (filter.customer_types?.length) {
    query.customer_type = { $in: filter.customer_types as NonNullable<CustomerDoc['customer_type']>[] };
  }
  if (filter.search_term) {
    const pattern = { $regex: escapeRegex(filter.search_term), $options: 'i' };
    query.$or = ['name', 'firstname', 'lastname', 'legal_name', 'external_id', 'email'].map((field) => ({
      [field]: pattern,
    }));
  }
  if (Object.keys(query).length === 2) return listAllCustomers(db, organizationId, page);
  // Filtered lists: the indexed query (MongoDB); FerretDB evaluates it over the collection.
  const [items, totalCount] = await Promise.all([
    customers(db).find(query).sort({ created_at: -1, _id: 1 }).skip(page.skip).limit(page.limit).toArray(),
    customers(db).countDocuments(query),
  ]);
  return { items, totalCount };
}

/**
 * The unfiltered list, newest first: one page of list entries (an `_id` range), the customers by
 * `_id`, and the count from the tops of two sequences: costs that do not grow with the list.
 */
async function listAllCustomers(
  db: Db,
  organizationId: string,
  page: { skip: number; limit: number },
): Promise<{ items: CustomerDoc[]; totalCount: number }> {
  const [ids, created, deleted] = await Promise.all([
    readListPage(db, 'customers', [organizationId], page),
    sequenceTop(db, createdSequence(organizationId)),
    sequenceTop(db, deletedSequence(organizationId)),
  ]);
  const docs = await readItems(customers(db), ids);
  return {
    items: docs.filter((d) => d.deletion_key === LIVE),
    totalCount: Math.max(0, created - deleted),
  };
}

/** Soft-deletes the live customer with this external id; returns it, or null when there is none. */
export async function softDeleteCustomer(
  db: Db,
  organizationId: string,
  externalId: string,
): Promise<CustomerDoc | null> {
  const existing = await findCustomer(db, organizationId, externalId);
  if (!existing) return null;
  const now = new Date();
  const deleted = await customers(db).findOneAndUpdate(
    { _id: existing._id, organization_id: organizationId, deletion_key: LIVE },
    { $set: { deleted_at: now, updated_at: now, deletion_key: existing._id } },
    { returnDocument: 'after' },
  );
  if (!deleted) return null;
  // Counted (total_count = created - deleted), unlisted, then the external id may name a new
  // customer: the key is released (a crash before that is completed by the next upsert, which
  // finds the key naming a deleted customer).
  await nextSequence(db, deletedSequence(organizationId));
  await removeListEntries(db, [customerListEntry(existing)]);
  await releaseKey(db, 'customer', organizationId, externalId, existing._id);
  return deleted;
}

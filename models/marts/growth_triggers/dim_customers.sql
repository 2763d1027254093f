-- One row per person (int_persons): identity facts, CRM profile, consent and
-- reachability per channel, preferred channel / device and referrals, as of
-- as_of_date. Contact data only as sha256 hashes of the primary CRM account.
-- preferred_channel / preferred_device: the one with the most user-initiated events
-- in the 90 days up to as_of_date (as_of_date - 89 .. as_of_date); ties go to the
-- most recent event, then to the alphabetically first name. Null when the person did
-- nothing in those 90 days.
with

persons as (
    select * from {{ ref('int_persons') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

profiles as (
    select * from {{ ref('int_person_profiles') }}
),

contactability as (
    select * from {{ ref('int_person_contactability') }}
),

referrals as (
    select * from {{ ref('int_person_referrals') }}
),

events as (
    select * from {{ ref('int_events_unioned') }}
    where is_user_initiated and person_id is not null
),

recent_events as (
    select
        events.person_id,
        events.channel,
        events.source,
        events.device,
        events.event_at
    from events
    cross join as_of
    where
        events.event_date <= as_of.as_of_date
        and events.event_date > {{ dbt.dateadd('day', -90, 'as_of.as_of_date') }}
),

channel_ranks as (
    select
        person_id,
        channel,
        row_number() over (
            partition by person_id
            order by count(*) desc, max(event_at) desc, channel asc
        ) as channel_rank
    from recent_events
    group by person_id, channel
),

-- devices only from web (device type) and app (platform): a store id is no device
device_ranks as (
    select
        person_id,
        device,
        row_number() over (
            partition by person_id
            order by count(*) desc, max(event_at) desc, device asc
        ) as device_rank
    from recent_events
    where source in ('web', 'app') and device is not null
    group by person_id, device
),

referrals_until_as_of as (
    select
        referrals.referrer_person_id,
        referrals.referred_person_id,
        referrals.referral_date
    from referrals
    cross join as_of
    where referrals.referral_date <= as_of.as_of_date
),

referred_by as (
    select
        referred_person_id as person_id,
        referrer_person_id,
        row_number() over (
            partition by referred_person_id
            order by referral_date, referrer_person_id
        ) as referral_rank
    from referrals_until_as_of
),

referrals_made as (
    select
        referrer_person_id as person_id,
        count(*) as referrals
    from referrals_until_as_of
    group by referrer_person_id
),

final as (
    select
        persons.person_id,
        as_of.as_of_date,
        persons.first_seen_at,
        persons.last_seen_at,
        persons.identifiers,
        persons.source_count,
        persons.sources,
        profiles.person_id is not null as is_registered,
        cast(coalesce(profiles.crm_accounts, 0) as {{ dbt.type_bigint() }}) as crm_accounts,
        profiles.country_code,
        profiles.signup_date,
        profiles.email_hash,
        profiles.phone_hash,
        -- consent is three-valued in the CRM; unknown and no CRM record both mean false
        coalesce(contactability.has_consent_email, false) as has_consent_email,
        coalesce(contactability.has_consent_sms, false) as has_consent_sms,
        coalesce(contactability.has_consent_push, false) as has_consent_push,
        coalesce(contactability.has_consent_whatsapp, false) as has_consent_whatsapp,
        coalesce(contactability.is_reachable_email, false) as is_reachable_email,
        coalesce(contactability.is_reachable_sms, false) as is_reachable_sms,
        coalesce(contactability.is_reachable_push, false) as is_reachable_push,
        coalesce(contactability.is_reachable_whatsapp, false) as is_reachable_whatsapp,
        coalesce(
            contactability.is_reachable_email
            or contactability.is_reachable_sms
            or contactability.is_reachable_push
            or contactability.is_reachable_whatsapp,
            false
        ) as is_reachable_any,
        coalesce(contactability.is_account_closed, false) as is_account_closed,
        contactability.opted_out_date,
        channel_ranks.channel as preferred_channel,
        device_ranks.device as preferred_device,
        referred_by.referrer_person_id as referred_by_person_id,
        cast(coalesce(referrals_made.referrals, 0) as {{ dbt.type_bigint() }}) as referrals,
        persons.is_only_excluded_identifiers
    from persons
    cross join as_of
    left join profiles
        on persons.person_id = profiles.person_id
    left join contactability
        on persons.person_id = contactability.person_id
    left join channel_ranks
        on
            persons.person_id = channel_ranks.person_id
            and channel_ranks.channel_rank = 1
    left join device_ranks
        on
            persons.person_id = device_ranks.person_id
            and device_ranks.device_rank = 1
    left join referred_by
        on
            persons.person_id = referred_by.person_id
            and referred_by.referral_rank = 1
    left join referrals_made
        on persons.person_id = referrals_made.person_id
)

select * from final

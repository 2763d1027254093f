-- 10,000,000 order lines in the UCI Online Retail layout (bench/ANALYSIS.md, declared sources).
-- 20 lines per invoice, an invoice a minute from 2010-12-01, a quarter without a customer.
copy (
  select
    cast(536365 + i // 20 as varchar) as InvoiceNo,
    'SKU' || cast(i % 3000 as varchar) as StockCode,
    'ITEM ' || cast(i % 3000 as varchar) as Description,
    cast(1 + (hash(i) % 12) as varchar) as Quantity,
    strftime(timestamp '2010-12-01 08:00:00' + to_seconds(cast((i // 20) * 60 as bigint)), '%Y-%m-%d %H:%M:%S') as InvoiceDate,
    cast(round(0.5 + (hash(i * 7) % 2000) / 100.0, 2) as varchar) as UnitPrice,
    case when hash(i // 20) % 4 = 0 then '' else cast(12000 + hash(i // 20) % 50000 as varchar) end as CustomerID,
    'United Kingdom' as Country
  from range(10000000) t(i)
) to '/tmp/big10/retail_10m.csv' (header, delimiter ',');

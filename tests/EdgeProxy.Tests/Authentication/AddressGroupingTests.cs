using System.Net;
using Authio.EdgeProxy.Authentication;
using Authio.EdgeProxy.Configuration;
using Authio.EdgeProxy.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace Authio.EdgeProxy.Tests.Authentication;

public sealed class AddressGroupingTests
{
    private static FailureBudget Budget(int prefix = 64) =>
        new(new FailureBudgetOptions { PerSecond = 1, Burst = 3, Ipv6Prefix = prefix }, new FakeTimeProvider());

    private static void Exhaust(FailureBudget budget, string address)
    {
        for (var i = 0; i < 3; i++)
        {
            budget.RecordFailure(IPAddress.Parse(address));
        }
    }

    [Fact]
    public void One_ipv6_64_is_one_budget_and_another_64_is_not_touched()
    {
        var budget = Budget();
        Exhaust(budget, "2001:db8:1:2::1");
        Assert.True(budget.IsExhausted(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:fffe"))); // rotating the interface id does not help
        Assert.False(budget.IsExhausted(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.False(budget.IsExhausted(IPAddress.Parse("203.0.113.9")));
    }

    [Fact]
    public void Prefix_128_budgets_each_ipv6_address_and_ipv4_mapped_counts_as_ipv4()
    {
        var perAddress = Budget(128);
        Exhaust(perAddress, "2001:db8:1:2::1");
        Assert.False(perAddress.IsExhausted(IPAddress.Parse("2001:db8:1:2::2")));

        var budget = Budget();
        Exhaust(budget, "203.0.113.7");
        Assert.True(budget.IsExhausted(IPAddress.Parse("::ffff:203.0.113.7")));
        Assert.False(budget.IsExhausted(IPAddress.Parse("203.0.113.8")));
    }

    [Theory]
    [InlineData("2001:db8:aaaa:bbbb:cccc::1", 64, "2001:db8:aaaa:bbbb::")]
    [InlineData("2001:db8:aaaa:bbff:cccc::1", 56, "2001:db8:aaaa:bb00::")]
    [InlineData("2001:db8:aaaa:bbff:cccc::1", 61, "2001:db8:aaaa:bbf8::")]
    [InlineData("2001:db8:aaaa:bbff:cccc::1", 128, "2001:db8:aaaa:bbff:cccc::1")]
    public void Ipv6_keys_keep_exactly_the_prefix(string address, int prefix, string expected)
    {
        Assert.Equal(ClientAddressGroup.Key(IPAddress.Parse(expected), 128), ClientAddressGroup.Key(IPAddress.Parse(address), prefix));
    }

    [Fact]
    public void The_rate_limiters_per_address_keys_use_the_same_grouping()
    {
        var table = new BucketTable(1024, 64);
        Assert.Equal(table.AddressKeyOf(IPAddress.Parse("2001:db8::1")), table.AddressKeyOf(IPAddress.Parse("2001:db8::2")));
        Assert.NotEqual(table.AddressKeyOf(IPAddress.Parse("2001:db8::1")), table.AddressKeyOf(IPAddress.Parse("2001:db8:0:1::1")));
        Assert.Equal(table.AddressKeyOf(IPAddress.Parse("198.51.100.4")), table.AddressKeyOf(IPAddress.Parse("::ffff:198.51.100.4")));
    }

    [Fact]
    public void Which_addresses_share_a_slot_differs_per_process_seed()
    {
        var addresses = Enumerable.Range(1, 64).Select(i => IPAddress.Parse($"198.51.100.{i}")).ToArray();
        var first = addresses.Select(Budget().SlotOf).ToArray();
        var second = addresses.Select(Budget().SlotOf).ToArray();
        Assert.NotEqual(first, second);
    }
}

"""factory_boy factories for customers (reused by the tickets tests).

``CustomerFactory(province=Province.objects.get(slug="bj"))``; the default
province is Beijing. ``ContactFactory`` adds one mobile number unless
``phones=[]`` is passed; ``ContactFactory(phones=["010-65528899"])`` for others.
"""

from __future__ import annotations

import factory

from kefu.customers.models import Contact, ContactPhone, Customer
from kefu.customers.phones import classify, normalize_phone
from kefu.org.models import Province


def province(slug: str) -> Province:
    return Province.objects.get(slug=slug)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"测试客户{n:04d}有限公司")
    account_number = factory.Sequence(lambda n: f"XST-T{n:06d}")
    province = factory.LazyFunction(lambda: province("bj"))
    industry = "enterprise"
    is_active = True


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n:04d}")
    title = "办公室主任"
    email = factory.Sequence(lambda n: f"contact{n}@example.cn")
    is_primary = False

    @factory.post_generation
    def phones(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if not create:
            return
        numbers = extracted if extracted is not None else [f"139{self.pk:08d}"]
        for raw in numbers:
            number = normalize_phone(raw)
            ContactPhone.objects.create(contact=self, number=number, kind=classify(number))


class ContactPhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPhone

    contact = factory.SubFactory(ContactFactory, phones=[])
    number = factory.Sequence(lambda n: f"137{n:08d}")
    kind = "mobile"
